"""``promax tenant``: create organisations and migrate their schemas."""

from sqlalchemy import select

from promax.cli import CommandError
from promax.models.control import Organisation
from promax.tenants import lifecycle
from promax.tenants.schema import schema_name


def load_organisation(session, slug):
    """Return the organisation named by a slug, or raise a CommandError."""
    try:
        organisation = lifecycle.find_organisation(session, slug)
    except lifecycle.InvalidSlug as error:
        raise CommandError(str(error), exit_status=2) from None
    if organisation is None:
        raise CommandError(
            f"organisation {slug!r} not found: create it with `promax tenant create {slug}`"
        )
    return organisation


def create(args, context):
    try:
        lifecycle.validate_slug(args.org)
    except lifecycle.InvalidSlug as error:
        raise CommandError(str(error), exit_status=2) from None

    with context.session() as session, session.begin():
        organisation, created = lifecycle.get_or_create_organisation(session, args.org, args.name)
    schema_created = lifecycle.create_schema(context.engine, organisation.id)
    before, after = lifecycle.migrate_schema(context.engine, organisation.id)

    return {
        "changed": created or schema_created or before != after,
        "org": organisation.slug,
        "id": organisation.id,
        "schema": schema_name(organisation.id),
        "revision": after,
    }


def migrate(args, context):
    if bool(args.org) == bool(args.all):
        raise CommandError("name one organisation or give --all", exit_status=2)

    with context.session() as session:
        if args.all:
            organisations = session.scalars(select(Organisation).order_by(Organisation.slug)).all()
        else:
            organisations = [load_organisation(session, args.org)]

    results = []
    failed = False
    for organisation in organisations:
        try:
            lifecycle.create_schema(context.engine, organisation.id)
            before, after = lifecycle.migrate_schema(context.engine, organisation.id)
            results.append(
                {"org": organisation.slug, "status": "ok", "from": before, "to": after}
            )
        except Exception as error:  # noqa: BLE001 - one tenant's failure must not stop the others
            failed = True
            results.append({"org": organisation.slug, "status": "failed", "error": str(error)})

    changed = any(r.get("from") != r.get("to") for r in results if r["status"] == "ok")
    if failed:
        from promax.cli import emit

        emit({"changed": changed, "tenants": results})
        raise CommandError("migration failed for at least one tenant; see the report above")
    return {"changed": changed, "tenants": results}


def register(subparsers):
    parser = subparsers.add_parser("tenant", help="manage organisations and tenant schemas")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    create_parser = actions.add_parser(
        "create", help="create an organisation and its schema (no change if both exist)"
    )
    create_parser.add_argument("org", help="organisation slug, for example acme")
    create_parser.add_argument("--name", help="display name (default: the slug)")
    create_parser.set_defaults(func=create)

    migrate_parser = actions.add_parser("migrate", help="apply pending tenant migrations")
    migrate_parser.add_argument("org", nargs="?", help="organisation slug")
    migrate_parser.add_argument("--all", action="store_true", help="migrate every tenant")
    migrate_parser.set_defaults(func=migrate)
