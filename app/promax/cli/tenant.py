"""``promax tenant``: create, migrate, back up, restore and delete tenant schemas and accounts.

These commands need the admin connection in PROMAX_DATABASE_ADMIN_URL,
because the control-plane account has no privilege on tenant schemas.
"""

import os
from datetime import UTC, datetime

from sqlalchemy import delete, select

from promax.cli import CommandError, emit
from promax.models.control import Organisation
from promax.tenants import lifecycle
from promax.tenants.accounts import account_name
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


def admin_engine(context):
    """Return the engine of PROMAX_DATABASE_ADMIN_URL, built once per command."""
    engine = context.__dict__.get("admin_engine")
    if engine is None:
        url = context.settings.database_admin_url
        if not url:
            raise CommandError(
                "PROMAX_DATABASE_ADMIN_URL is not set: tenant schemas and accounts are created "
                "through an account with CREATE USER and GRANT OPTION, for example "
                "mysql+pymysql://root@localhost/mysql?unix_socket=/run/mysqld/mysqld.sock"
            )
        from promax.db import make_engine

        engine = make_engine(url, pool_size=1, max_overflow=1)
        context.__dict__["admin_engine"] = engine
    return engine


def tenant_engines(context):
    """Return the per-tenant engines (each tenant's own account), built once per command."""
    engines = context.__dict__.get("tenant_engines")
    if engines is None:
        from promax.tenants.engines import TenantEngines

        engines = TenantEngines(context.settings)
        context.__dict__["tenant_engines"] = engines
    return engines


def provision(context, organisation_id):
    """Create the schema and account if missing and migrate; return what changed."""
    engine = admin_engine(context)
    schema_created = lifecycle.create_schema(engine, organisation_id)
    account_created = lifecycle.ensure_account(engine, context.settings, organisation_id)
    before, after = lifecycle.migrate_schema(engine, organisation_id)
    return {
        "schema_created": schema_created,
        "account_created": account_created,
        "from": before,
        "to": after,
    }


def create(args, context):
    try:
        lifecycle.validate_slug(args.org)
    except lifecycle.InvalidSlug as error:
        raise CommandError(str(error), exit_status=2) from None
    admin_engine(context)

    with context.session() as session, session.begin():
        organisation, created = lifecycle.get_or_create_organisation(session, args.org, args.name)
    result = provision(context, organisation.id)

    return {
        "changed": created or result["schema_created"] or result["account_created"]
        or result["from"] != result["to"],
        "org": organisation.slug,
        "id": organisation.id,
        "schema": schema_name(organisation.id),
        "account": account_name(organisation.id),
        "revision": result["to"],
    }


def _organisations(context, args):
    if bool(args.org) == bool(args.all):
        raise CommandError("name one organisation or give --all", exit_status=2)
    with context.session() as session:
        if args.all:
            return session.scalars(select(Organisation).order_by(Organisation.slug)).all()
        return [load_organisation(session, args.org)]


def migrate(args, context):
    organisations = _organisations(context, args)
    admin_engine(context)

    results = []
    failed = False
    for organisation in organisations:
        try:
            result = provision(context, organisation.id)
            results.append({"org": organisation.slug, "status": "ok", **result})
        except Exception as error:  # noqa: BLE001 - one tenant's failure must not stop the others
            failed = True
            results.append({"org": organisation.slug, "status": "failed", "error": str(error)})

    changed = any(
        r["from"] != r["to"] or r["schema_created"] or r["account_created"]
        for r in results
        if r["status"] == "ok"
    )
    if failed:
        emit({"changed": changed, "tenants": results})
        raise CommandError("migration failed for at least one tenant; see the report above")
    return {"changed": changed, "tenants": results}


def backup(args, context):
    from promax.tenants.backup import write_backup

    with context.session() as session:
        organisation = load_organisation(session, args.org)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.output or f"{organisation.slug}-{stamp}.promax-backup.gz"
    if os.path.exists(path):
        raise CommandError(f"{path} exists already: choose another --output", exit_status=2)
    counts = write_backup(admin_engine(context), organisation.id, path)
    return {"changed": True, "org": organisation.slug, "file": os.path.abspath(path),
            "rows": sum(counts.values()), "tables": len(counts)}


def restore(args, context):
    from promax.tenants.backup import BackupError, restore_backup

    with context.session() as session:
        organisation = load_organisation(session, args.org)
    if not os.path.isfile(args.file):
        raise CommandError(f"backup file {args.file} not found", exit_status=2)
    provision(context, organisation.id)
    try:
        counts = restore_backup(admin_engine(context), organisation.id, args.file)
    except BackupError as error:
        raise CommandError(str(error)) from None
    # Figures cached from the replaced data are stale.
    from promax.cache import TenantCache

    TenantCache.from_settings(context.settings).invalidate_tenant(organisation.id)
    return {"changed": True, "org": organisation.slug, "rows": sum(counts.values()),
            "tables": len(counts)}


def delete_tenant(args, context):
    if args.confirm != args.org:
        raise CommandError(
            f"deleting {args.org!r} destroys its mirrored ERP data: repeat the slug with "
            f"--confirm {args.org}",
            exit_status=2,
        )
    import json

    from promax.models.control import AuditEvent, ErpLink

    with context.session() as session:
        organisation = load_organisation(session, args.org)
    schema_dropped, account_dropped = lifecycle.drop_schema(
        admin_engine(context), context.settings, organisation.id
    )
    # The ERP link goes too, so `promax sync --all` stops syncing into a missing
    # schema. NOTE: the organisation, its users and sessions stay in the control
    # plane; removing them is left to account erasure.
    with context.session() as session, session.begin():
        session.execute(delete(ErpLink).where(ErpLink.organisation_id == organisation.id))
        session.add(AuditEvent(
            event_type="tenant.deleted",
            organisation_id=organisation.id,
            detail=json.dumps({"schema_dropped": schema_dropped, "account_dropped": account_dropped}),
        ))
    return {"changed": True, "org": organisation.slug, "id": organisation.id,
            "schema_dropped": schema_dropped, "account_dropped": account_dropped}


def refresh_accounts(args, context):
    """Set every tenant account's password and grant again, after PROMAX_TENANT_DB_SECRET changed."""
    organisations = _organisations(context, args)
    engine = admin_engine(context)
    results = []
    for organisation in organisations:
        created = lifecycle.ensure_account(engine, context.settings, organisation.id)
        results.append({"org": organisation.slug, "account": account_name(organisation.id),
                        "created": created})
    return {"changed": bool(results), "tenants": results}


def register(subparsers):
    parser = subparsers.add_parser("tenant", help="manage organisations and tenant schemas")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    create_parser = actions.add_parser(
        "create", help="create an organisation, its schema and its account (no change if all exist)"
    )
    create_parser.add_argument("org", help="organisation slug, for example acme")
    create_parser.add_argument("--name", help="display name (default: the slug)")
    create_parser.set_defaults(func=create)

    migrate_parser = actions.add_parser(
        "migrate", help="apply pending tenant migrations and create missing accounts"
    )
    migrate_parser.add_argument("org", nargs="?", help="organisation slug")
    migrate_parser.add_argument("--all", action="store_true", help="migrate every tenant")
    migrate_parser.set_defaults(func=migrate)

    backup_parser = actions.add_parser("backup", help="write a logical backup of one tenant schema")
    backup_parser.add_argument("org", help="organisation slug")
    backup_parser.add_argument(
        "--output", help="backup file to create (default: <slug>-<UTC time>.promax-backup.gz)"
    )
    backup_parser.set_defaults(func=backup)

    restore_parser = actions.add_parser(
        "restore", help="replace one tenant's tables with a backup of the same organisation"
    )
    restore_parser.add_argument("org", help="organisation slug")
    restore_parser.add_argument("file", help="backup file written by `promax tenant backup`")
    restore_parser.set_defaults(func=restore)

    delete_parser = actions.add_parser(
        "delete", help="drop an organisation's schema, MariaDB account and ERP link"
    )
    delete_parser.add_argument("org", help="organisation slug")
    delete_parser.add_argument("--confirm", required=True, help="the same slug again, to confirm")
    delete_parser.set_defaults(func=delete_tenant)

    accounts_parser = actions.add_parser(
        "accounts", help="set tenant account passwords and grants again (after a secret change)"
    )
    accounts_parser.add_argument("org", nargs="?", help="organisation slug")
    accounts_parser.add_argument("--all", action="store_true", help="every organisation")
    accounts_parser.set_defaults(func=refresh_accounts)
