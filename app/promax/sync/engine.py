"""Pull ERP documents into a tenant schema, page by page, with a (modified, name) cursor.

Each page's upserts and the cursor after it commit in one transaction, so a
run that stops half-way resumes after the last committed page. Rows that
equal the stored copy are not written, so syncing unchanged data changes
nothing. Child rows (invoice and order items) are replaced as a whole
whenever their parent changes. Cancelled documents arrive through the
cursor, because cancelling sets docstatus 2 and bumps `modified`.

Two cases the cursor cannot see are handled separately:

* GL and stock ledger entries are renamed by the ERP after insert (with
  `modified` bumped), so `name` is not a stable key for them. When any entry
  of a voucher shows up, every entry of that voucher is fetched again and
  replaces the stored ones, which drops the entries under their old names.
* A deleted document bumps nothing. After a successful walk, each DocType's
  names are listed (keyset by name, 1000 a page) and stored rows the ERP no
  longer has are deleted.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.dialects.mysql import insert as mysql_insert

from promax.models.tenant import SyncRun, SyncState
from promax.sync.doctypes import ALL_SPECS, TOP_LEVEL
from promax.tenants.schema import schema_name, tenant_connection

log = logging.getLogger(__name__)

DEFAULT_PAGE_LENGTH = 100
# Page length of the name listings that detect deletions; only `name` is fetched.
NAME_PAGE_LENGTH = 1000
# Largest number of parents or vouchers named in one `in` filter, so the
# request's query string stays well under common 8 KB URL limits.
MAX_IN_VALUES = 100
MODIFIED_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
MAX_ERROR_CHARS = 2000


class SyncAlreadyRunning(RuntimeError):
    """Raised when another process holds the organisation's sync lock."""


@dataclass
class Counts:
    fetched: int = 0
    changed: int = 0
    deleted: int = 0

    def as_dict(self):
        return {"fetched": self.fetched, "changed": self.changed, "deleted": self.deleted}


def _now():
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _row_dict(spec, row):
    return {column: row._mapping[column] for column in spec.columns}


def _chunks(values, size):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


class TenantSync:
    """One sync run of one organisation.

    ``engine`` must reach the organisation's schema: in production the
    tenant's own engine from ``promax.tenants.engines``.
    """

    def __init__(self, engine, organisation_id, client, page_length=DEFAULT_PAGE_LENGTH,
                 reconcile_deletions=True):
        self.engine = engine
        self.organisation_id = organisation_id
        self.client = client
        self.page_length = page_length
        self.reconcile_deletions = reconcile_deletions
        self.counts = {spec.doctype: Counts() for spec in ALL_SPECS}

    def _connect(self, begin=False):
        return tenant_connection(self.engine, self.organisation_id, begin=begin)

    # Cursor and run bookkeeping.

    def _load_cursor(self, doctype):
        with self._connect() as connection:
            row = connection.execute(
                select(SyncState.cursor_modified, SyncState.cursor_name).where(
                    SyncState.doctype == doctype
                )
            ).first()
        return (row.cursor_modified, row.cursor_name) if row else (None, "")

    def _start_run(self):
        with self._connect(begin=True) as connection:
            result = connection.execute(
                insert(SyncRun).values(
                    started_at=_now(), status="running", rows_fetched=0, rows_changed=0,
                    rows_deleted=0, error="",
                )
            )
            return result.inserted_primary_key[0]

    def _finish_run(self, run_id, status, error=""):
        detail = {doctype: counts.as_dict() for doctype, counts in self.counts.items()}
        with self._connect(begin=True) as connection:
            connection.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(
                    finished_at=_now(),
                    status=status,
                    rows_fetched=self.rows_fetched,
                    rows_changed=self.rows_changed,
                    rows_deleted=self.rows_deleted,
                    detail=json.dumps(detail, sort_keys=True),
                    error=error[:MAX_ERROR_CHARS],
                )
            )

    @property
    def rows_fetched(self):
        return sum(counts.fetched for counts in self.counts.values())

    @property
    def rows_changed(self):
        return sum(counts.changed for counts in self.counts.values())

    @property
    def rows_deleted(self):
        return sum(counts.deleted for counts in self.counts.values())

    @property
    def changed_doctypes(self):
        return sorted(
            doctype for doctype, counts in self.counts.items() if counts.changed or counts.deleted
        )

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

    def _fetch_all(self, spec, field, values, order_by, parent=None):
        """Return every row of ``spec`` whose ``field`` is in ``values``, by keyset on name."""
        rows = []
        for chunk in _chunks(sorted(values), MAX_IN_VALUES):
            after = None
            while True:
                filters = [[field, "in", chunk]]
                if after is not None:
                    filters.append(["name", ">", after])
                page = self.client.list_documents(
                    spec.doctype,
                    fields=spec.fields,
                    filters=filters,
                    order_by="name asc",
                    limit_start=0,
                    limit_page_length=self.page_length * 5,
                    parent=parent,
                )
                rows.extend(page)
                if len(page) < self.page_length * 5:
                    break
                after = page[-1]["name"]
        return rows

    # Writing.

    def _stored(self, connection, spec, condition):
        table = spec.table
        return {
            row.name: _row_dict(spec, row)
            for row in connection.execute(
                select(*[table.c[column] for column in spec.columns]).where(condition)
            )
        }

    def _save_cursor(self, connection, spec, last):
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

    def _upsert(self, connection, spec, rows):
        statement = mysql_insert(spec.table).values(rows)
        updates = {column: statement.inserted[column] for column in spec.columns if column != "name"}
        connection.execute(statement.on_duplicate_key_update(**updates))

    def _apply_page(self, spec, documents):
        """Write the changed documents of one page and advance the cursor, in one transaction."""
        if spec.by_voucher:
            return self._apply_voucher_page(spec, documents)
        converted = {}
        for document in documents:
            row = spec.convert(document)
            converted[row["name"]] = row
        last = spec.convert(documents[-1])
        self.counts[spec.doctype].fetched += len(documents)

        table = spec.table
        with self._connect() as connection:
            stored = self._stored(connection, spec, table.c.name.in_(list(converted)))
        changed = [row for name, row in converted.items() if stored.get(name) != row]

        children = []
        child = spec.child
        if child is not None and changed:
            fetched = self._fetch_all(
                child, "parent", {row["name"] for row in changed}, "name asc", parent=spec.doctype
            )
            self.counts[child.doctype].fetched += len(fetched)
            children = [child.convert(row) for row in fetched]

        with self._connect(begin=True) as connection:
            if changed:
                self._upsert(connection, spec, changed)
            if child is not None and changed:
                connection.execute(
                    delete(child.table).where(
                        child.table.c.parent.in_([row["name"] for row in changed])
                    )
                )
                if children:
                    connection.execute(insert(child.table), children)
                self.counts[child.doctype].changed += len(children)
            self._save_cursor(connection, spec, last)
        self.counts[spec.doctype].changed += len(changed)
        return last["modified"], last["name"]

    def _apply_voucher_page(self, spec, documents):
        """Replace the stored entries of every voucher named in a page of ledger entries."""
        last = spec.convert(documents[-1])
        self.counts[spec.doctype].fetched += len(documents)
        vouchers = {(document["voucher_type"], document["voucher_no"]) for document in documents}
        fetched = self._fetch_all(spec, "voucher_no", {no for _, no in vouchers}, "name asc")
        self.counts[spec.doctype].fetched += len(fetched)
        current = {}
        for document in fetched:
            row = spec.convert(document)
            if (row["voucher_type"], row["voucher_no"]) in vouchers:
                current[row["name"]] = row

        table = spec.table
        voucher_key = tuple_(table.c.voucher_type, table.c.voucher_no)
        with self._connect(begin=True) as connection:
            stored = self._stored(connection, spec, voucher_key.in_(sorted(vouchers)))
            gone = [name for name in stored if name not in current]
            changed = [row for name, row in current.items() if stored.get(name) != row]
            if gone:
                connection.execute(delete(table).where(table.c.name.in_(gone)))
            if changed:
                self._upsert(connection, spec, changed)
            self._save_cursor(connection, spec, last)
        self.counts[spec.doctype].changed += len(changed)
        self.counts[spec.doctype].deleted += len(gone)
        if gone:
            log.info(
                "ledger entries replaced",
                extra={"organisation_id": self.organisation_id, "doctype": spec.doctype,
                       "vouchers": len(vouchers), "removed": len(gone)},
            )
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

    def remove_deleted(self, spec):
        """Delete stored rows of a DocType whose names the ERP no longer lists."""
        remote = set()
        after = None
        while True:
            filters = [["name", ">", after]] if after is not None else []
            page = self.client.list_documents(
                spec.doctype, fields=["name"], filters=filters, order_by="name asc",
                limit_start=0, limit_page_length=NAME_PAGE_LENGTH,
            )
            remote.update(row["name"] for row in page)
            if len(page) < NAME_PAGE_LENGTH:
                break
            after = page[-1]["name"]

        table = spec.table
        with self._connect() as connection:
            local = set(connection.execute(select(table.c.name)).scalars())
        gone = sorted(local - remote)
        if not gone:
            return 0
        with self._connect(begin=True) as connection:
            for chunk in _chunks(gone, 500):
                connection.execute(delete(table).where(table.c.name.in_(chunk)))
        self.counts[spec.doctype].deleted += len(gone)
        log.info(
            "deleted ERP documents removed",
            extra={"organisation_id": self.organisation_id, "doctype": spec.doctype,
                   "count": len(gone)},
        )
        return len(gone)

    def run(self, redact=str):
        """Sync every DocType; return the run's report. Errors are recorded, not raised."""
        started = time.monotonic()
        run_id = self._start_run()
        status, error = "succeeded", ""
        try:
            for spec in TOP_LEVEL:
                self.sync_doctype(spec)
            if self.reconcile_deletions:
                for spec in TOP_LEVEL:
                    self.remove_deleted(spec)
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
            "changed": self.rows_changed + self.rows_deleted > 0,
            "rows_fetched": self.rows_fetched,
            "rows_changed": self.rows_changed,
            "rows_deleted": self.rows_deleted,
            "changed_doctypes": self.changed_doctypes,
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
