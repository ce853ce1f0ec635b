"""``promax sync``: copy ERP documents into tenant schemas."""

import json

from sqlalchemy import select

from promax.cache import TenantCache
from promax.cli import CommandError, emit
from promax.cli.tenant import load_organisation, tenant_engines
from promax.erp.credentials import CredentialError
from promax.erp.link import ErpLinkMissing, InvalidErpUrl, build_client
from promax.models.control import AuditEvent, ErpLink, Organisation
from promax.sync.engine import DEFAULT_PAGE_LENGTH, SyncAlreadyRunning, sync_organisation


def _record(context, organisation, report):
    event_type = "sync.completed" if report["status"] == "succeeded" else "sync.failed"
    detail = {key: report[key] for key in ("run_id", "rows_fetched", "rows_changed") if key in report}
    if "error" in report:
        detail["error"] = report["error"][:1000]
    with context.session() as session, session.begin():
        session.add(
            AuditEvent(
                event_type=event_type,
                organisation_id=organisation.id,
                detail=json.dumps(detail),
            )
        )


def _sync_one(context, organisation, page_length):
    with context.session() as session:
        try:
            client = build_client(session, context.settings, organisation.id, context.environ)
        except (ErpLinkMissing, InvalidErpUrl, CredentialError) as error:
            report = {"status": "failed", "changed": False, "error": str(error)}
            _record(context, organisation, report)
            return {"org": organisation.slug, **report}
    engines = tenant_engines(context)
    # The sync writes through the tenant's own account, which reaches no other schema.
    engine = engines.get(organisation.id)
    with client:
        try:
            report = sync_organisation(
                engine, organisation.id, client, page_length, redact=client.redact
            )
        except SyncAlreadyRunning as error:
            return {"org": organisation.slug, "status": "skipped", "changed": False, "error": str(error)}
    _record(context, organisation, report)
    if report["changed"]:
        # Cached figures that read a changed DocType are stale now.
        cache = TenantCache.from_settings(context.settings, engines)
        report["invalidated_tabs"] = cache.invalidate_changes(
            organisation.id, report["changed_doctypes"]
        )
    return {"org": organisation.slug, **report}


def sync(args, context):
    if bool(args.org) == bool(args.all):
        raise CommandError("name one organisation or give --all", exit_status=2)
    if args.page_length < 1 or args.page_length > 1000:
        raise CommandError("--page-length must be between 1 and 1000", exit_status=2)

    with context.session() as session:
        if args.all:
            organisations = session.scalars(
                select(Organisation).join(ErpLink).order_by(Organisation.slug)
            ).all()
        else:
            organisations = [load_organisation(session, args.org)]

    reports = [_sync_one(context, organisation, args.page_length) for organisation in organisations]
    failed = [report["org"] for report in reports if report["status"] == "failed"]
    changed = any(report["changed"] for report in reports)

    result = reports[0] if not args.all else {"changed": changed, "orgs": reports}
    if failed:
        emit(result)
        raise CommandError(f"sync failed for {', '.join(failed)}; see the report above")
    return result


def register(subparsers):
    parser = subparsers.add_parser("sync", help="copy ERP documents into tenant schemas")
    parser.add_argument("org", nargs="?", help="organisation slug")
    parser.add_argument("--all", action="store_true", help="sync every organisation with an ERP link")
    parser.add_argument(
        "--page-length",
        type=int,
        default=DEFAULT_PAGE_LENGTH,
        help=f"documents per ERP request (default {DEFAULT_PAGE_LENGTH})",
    )
    parser.set_defaults(func=sync)
