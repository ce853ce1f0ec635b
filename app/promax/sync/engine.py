"""Pull ERP documents into a tenant schema, page by page, with a (modified, name) cursor.

Each page's upserts and the cursor after it commit in one transaction, so a
run that stops half-way resumes after the last committed page. Rows that
equal the stored copy are not written, so syncing unchanged data changes
nothing. Invoice items are replaced as a whole whenever their invoice
changes.

Documents deleted in the ERP are not detected: a deletion does not bump any
`modified` value the cursor could see.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert

from promax.models.tenant import SalesInvoiceItem, SyncRun, SyncState
from promax.sync.doctypes import SALES_INVOICE, SALES_INVOICE_ITEM, TOP_LEVEL
from promax.tenants.schema import schema_name, tenant_connection

log = logging.getLogger(__name__)

DEFAULT_PAGE_LENGTH = 100
MODIFIED_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
MAX_ERROR_CHARS = 2000


class SyncAlreadyRunning(RuntimeError):
    """Raised when another process holds the organisation's sync lock."""


@dataclass
class Counts:
    fetched: int = 0
    changed: int = 0

    def as_dict(self):
        return {"fetched": self.fetched, "changed": self.changed}


def _now():
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _row_dict(spec, row):
    return {column: row._mapping[column] for column in spec.columns}


class TenantSync:
    """One sync run of one organisation."""

    def __init__(self, engine, organisation_id, client, page_length=DEFAULT_PAGE_LENGTH):
        self.engine = engine
        self.organisation_id = organisation_id
        self.client = client
        self.page_length = page_length
        self.counts = {spec.doctype: Counts() for spec in (*TOP_LEVEL, SALES_INVOICE_ITEM)}

    # Cursor and run bookkeeping.

    def _load_cursor(self, doctype):
        with tenant_connection(self.engine, self.organisation_id) as connection:
            row = connection.execute(
                select(SyncState.cursor_modified, SyncState.cursor_name).where(
                    SyncState.doctype == doctype
                )
            ).first()
        return (row.cursor_modified, row.cursor_name) if row else (None, "")

    def _start_run(self):
        with tenant_connection(self.engine, self.organisation_id, begin=True) as connection:
            result = connection.execute(
                insert(SyncRun).values(
                    started_at=_now(), status="running", rows_fetched=0, rows_changed=0, error=""
                )
            )
            return result.inserted_primary_key[0]

    def _finish_run(self, run_id, status, error=""):
        with tenant_connection(self.engine, self.organisation_id, begin=True) as connection:
            connection.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(
                    finished_at=_now(),
                    status=status,
                    rows_fetched=self.rows_fetched,
                    rows_changed=self.rows_changed,
                    error=error[:MAX_ERROR_CHARS],
                )
            )

    @property
    def rows_fetched(self):
        return sum(counts.fetched for counts in self.counts.values())

    @property
    def rows_changed(self):
        return sum(counts.changed for counts in self.counts.values())

    # Fetching.

    def _list(self, spec, filters, order_by):
        return self.client.list_documents(
            spec.doctype,
            fields=spec.fields,
            filters=filters,
            order_by=order_by,
            limit_start=0,
            limit_page_length=self.page_length,
        )

    def _fetch_items(self, invoice_names):
        """Return the child rows of the named invoices, paging through the child table."""
        rows = []
        start = 0
        while True:
            page = self.client.list_documents(
                SALES_INVOICE_ITEM.doctype,
                fields=SALES_INVOICE_ITEM.fields,
                filters=[["parent", "in", sorted(invoice_names)]],
                order_by="parent asc, idx asc",
                limit_start=start,
                limit_page_length=self.page_length * 5,
                parent=SALES_INVOICE.doctype,
            )
            rows.extend(page)
            if len(page) < self.page_length * 5:
                return rows
            start += len(page)

    # Writing.

    def _apply_page(self, spec, documents):
        """Write the changed documents of one page and advance the cursor, in one transaction."""
        converted = {}
        for document in documents:
            row = spec.convert(document)
            converted[row["name"]] = row
        last = spec.convert(documents[-1])
        self.counts[spec.doctype].fetched += len(documents)

        table = spec.table
        with tenant_connection(self.engine, self.organisation_id) as connection:
            stored = {
                row.name: _row_dict(spec, row)
                for row in connection.execute(
                    select(*[table.c[column] for column in spec.columns]).where(
                        table.c.name.in_(list(converted))
                    )
                )
            }
        changed = [row for name, row in converted.items() if stored.get(name) != row]

        items = []
        if spec is SALES_INVOICE and changed:
            fetched_items = self._fetch_items({row["name"] for row in changed})
            self.counts[SALES_INVOICE_ITEM.doctype].fetched += len(fetched_items)
            items = [SALES_INVOICE_ITEM.convert(item) for item in fetched_items]

        with tenant_connection(self.engine, self.organisation_id, begin=True) as connection:
            if changed:
                statement = mysql_insert(table).values(changed)
                updates = {
                    column: statement.inserted[column] for column in spec.columns if column != "name"
                }
                connection.execute(statement.on_duplicate_key_update(**updates))
            if spec is SALES_INVOICE and changed:
                connection.execute(
                    delete(SalesInvoiceItem).where(
                        SalesInvoiceItem.parent.in_([row["name"] for row in changed])
                    )
                )
                if items:
                    connection.execute(insert(SalesInvoiceItem), items)
                self.counts[SALES_INVOICE_ITEM.doctype].changed += len(items)
            cursor = mysql_insert(SyncState).values(
                doctype=spec.doctype,
                cursor_modified=last["modified"],
                cursor_name=last["name"],
                updated_at=_now(),
            )
            connection.execute(
                cursor.on_duplicate_key_update(
                    cursor_modified=cursor.inserted.cursor_modified,
                    cursor_name=cursor.inserted.cursor_name,
                    updated_at=cursor.inserted.updated_at,
                )
            )
        self.counts[spec.doctype].changed += len(changed)
        return last["modified"], last["name"]

    # The cursor walk.

    def sync_doctype(self, spec):
        """Fetch every document after the stored cursor, oldest `modified` first.

        Frappe filters cannot express (modified, name) > (m, n) in one request,
        so the walk alternates two keyset queries: rows with modified = m and
        name > n (the rest of a tie that a page border cut), then rows with
        modified > m. Offsets are never used, so concurrent ERP edits cannot
        shift rows past the walk.
        """
        modified, name = self._load_cursor(spec.doctype)
        ties_pending = modified is not None
        while True:
            if ties_pending:
                stamp = modified.strftime(MODIFIED_FORMAT)
                page = self._list(spec, [["modified", "=", stamp], ["name", ">", name]], "name asc")
                if page:
                    modified, name = self._apply_page(spec, page)
                if len(page) == self.page_length:
                    continue
            filters = [["modified", ">", modified.strftime(MODIFIED_FORMAT)]] if modified else []
            page = self._list(spec, filters, "modified asc, name asc")
            if page:
                modified, name = self._apply_page(spec, page)
            if len(page) < self.page_length:
                return
            ties_pending = True

    def run(self, redact=str):
        """Sync every DocType; return the run's report. Errors are recorded, not raised."""
        started = time.monotonic()
        run_id = self._start_run()
        status, error = "succeeded", ""
        try:
            for spec in TOP_LEVEL:
                self.sync_doctype(spec)
        except Exception as failure:  # recorded in sync_run and reported to the caller
            status = "failed"
            error = redact(f"{type(failure).__name__}: {failure}")
            log.error(
                "sync failed",
                extra={"organisation_id": self.organisation_id, "run_id": run_id, "error": error},
            )
        self._finish_run(run_id, status, error)
        report = {
            "status": status,
            "run_id": run_id,
            "changed": self.rows_changed > 0,
            "rows_fetched": self.rows_fetched,
            "rows_changed": self.rows_changed,
            "doctypes": {doctype: counts.as_dict() for doctype, counts in self.counts.items()},
            "seconds": round(time.monotonic() - started, 3),
        }
        if error:
            report["error"] = error
        log.info("sync finished", extra={"organisation_id": self.organisation_id, **report})
        return report


def sync_organisation(engine, organisation_id, client, page_length=DEFAULT_PAGE_LENGTH, redact=str):
    """Run one sync of an organisation under a MariaDB named lock; return its report.

    The lock (GET_LOCK, released when its connection closes) keeps two
    processes from syncing one organisation at once.
    """
    lock_name = "promax-sync-" + schema_name(organisation_id)[len("tenant_") :]
    with engine.connect() as lock_connection:
        acquired = lock_connection.execute(select(func.get_lock(lock_name, 0))).scalar()
        if acquired != 1:
            raise SyncAlreadyRunning(
                f"a sync of organisation {organisation_id} is already running; try again later"
            )
        try:
            return TenantSync(engine, organisation_id, client, page_length).run(redact)
        finally:
            lock_connection.execute(select(func.release_lock(lock_name)))
