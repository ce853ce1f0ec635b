"""``promax cache``: purge expired tier-2 cache rows from tenant schemas."""

from sqlalchemy import select

from promax.cli import CommandError
from promax.cli.tenant import load_organisation, tenant_engines
from promax.models.control import Organisation


def purge(args, context):
    if bool(args.org) == bool(args.all):
        raise CommandError("name one organisation or give --all", exit_status=2)
    from promax.cache import Tier2Cache

    with context.session() as session:
        if args.all:
            organisations = session.scalars(select(Organisation).order_by(Organisation.slug)).all()
        else:
            organisations = [load_organisation(session, args.org)]

    tier2 = Tier2Cache(tenant_engines(context), context.settings.cache_retention_hours)
    results = []
    for organisation in organisations:
        removed = tier2.purge_expired(organisation.id)
        results.append({"org": organisation.slug, "removed": removed})
    return {"changed": any(r["removed"] for r in results), "tenants": results}


def register(subparsers):
    parser = subparsers.add_parser("cache", help="maintain the tier-2 cache in tenant schemas")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    purge_parser = actions.add_parser(
        "purge", help="delete tier-2 rows older than PROMAX_CACHE_RETENTION_HOURS"
    )
    purge_parser.add_argument("org", nargs="?", help="organisation slug")
    purge_parser.add_argument("--all", action="store_true", help="every organisation")
    purge_parser.set_defaults(func=purge)
