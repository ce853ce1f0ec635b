"""Sync acceptance: totals of every DocType, resumption after a kill, 429/5xx storms,
ledger renames, deletions, the per-account request limit across processes and
secret hygiene. Runs against real MariaDB and Memcached and the simulator."""

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from support.erpsim import API_KEY, API_SECRET
from support.memcached import memcached_values

from promax.erp.client import ErpClient
from promax.erpsim.server import CHILD_DOCTYPES
from promax.models.tenant import (
    CacheEntry,
    GLEntry,
    PaymentEntry,
    SalesInvoice,
    SalesOrderItem,
    SyncRun,
    SyncState,
)
from promax.sync.doctypes import ALL_SPECS, GL_ENTRY, STOCK_LEDGER_ENTRY
from promax.tenants.schema import tenant_connection

PROMAX = os.path.join(os.path.dirname(sys.executable), "promax")
# One money or quantity column per DocType whose sum must match the ERP's.
SUM_COLUMNS = {
    "Sales Invoice": "base_grand_total", "Sales Invoice Item": "amount",
    "Purchase Invoice": "base_grand_total", "Purchase Invoice Item": "amount",
    "Sales Order": "base_grand_total", "Sales Order Item": "amount",
    "Purchase Order": "base_grand_total", "Purchase Order Item": "amount",
    "Payment Entry": "paid_amount", "GL Entry": "debit", "Stock Ledger Entry": "actual_qty",
    "Bin": "actual_qty",
}


def link(promax, slug, simulator):
    promax("erp", "set", slug, "--url", simulator.url, "--api-key", API_KEY,
           "--api-secret-stdin", stdin=API_SECRET + "\n")


@pytest.fixture
def linked(promax, acme, simulator):
    link(promax, "acme", simulator)
    return acme


@pytest.fixture
def root_engine(database_url, mariadb):
    engine = create_engine(mariadb.url(make_url(database_url).database, user="root", password=""))
    yield engine
    engine.dispose()


def erp_totals(simulator):
    """Return {DocType: (rows, sum)} of the simulator's current documents."""
    collections = simulator.app.collections
    totals = {}
    for spec in ALL_SPECS:
        rows = collections.rows(spec.doctype, CHILD_DOCTYPES.get(spec.doctype))
        column = SUM_COLUMNS.get(spec.doctype)
        total = sum((Decimal(str(row[column])) for row in rows), Decimal(0)) if column else None
        totals[spec.doctype] = (len(rows), total)
    return totals


def tenant_totals(engine, organisation_id):
    totals = {}
    with tenant_connection(engine, organisation_id) as connection:
        for spec in ALL_SPECS:
            column = SUM_COLUMNS.get(spec.doctype)
            count = connection.execute(select(func.count()).select_from(spec.table)).scalar()
            total = None
            if column:
                total = connection.execute(
                    select(func.coalesce(func.sum(spec.table.c[column]), 0))
                ).scalar()
                total = Decimal(total)
            totals[spec.doctype] = (count, total)
    return totals


def assert_mirror_matches(engine, organisation_id, simulator):
    expected = erp_totals(simulator)
    actual = tenant_totals(engine, organisation_id)
    for doctype, (rows, total) in expected.items():
        assert actual[doctype][0] == rows, f"{doctype}: {actual[doctype][0]} rows, ERP has {rows}"
        if total is not None:
            assert actual[doctype][1] == total, f"{doctype}: sum {actual[doctype][1]} != {total}"


def subprocess_environ(environ, **extra):
    return {**os.environ, **environ, **extra}


@pytest.mark.claim("C-6.1a", "C-6.2c", "C-5.4a")
def test_full_sync_totals_match_erp(promax, linked, simulator, root_engine):
    report = promax("sync", "acme")

    assert report["status"] == "succeeded"
    assert_mirror_matches(root_engine, linked["id"], simulator)
    assert len(ALL_SPECS) == 20


@pytest.mark.claim("C-6.1a")
def test_sync_killed_midway_resumes(promax, linked, simulator, root_engine, environ):
    simulator.app.latency_seconds = 0.02
    process = subprocess.Popen(
        [PROMAX, "sync", "acme", "--page-length", "50"],
        env=subprocess_environ(environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    cursor = None
    while time.monotonic() < deadline and cursor is None:
        time.sleep(0.1)
        with tenant_connection(root_engine, linked["id"]) as connection:
            cursor = connection.execute(
                select(SyncState.cursor_name).where(SyncState.doctype == "Sales Invoice")
            ).scalar()
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert cursor is not None, "the sync never committed a Sales Invoice page"
    with tenant_connection(root_engine, linked["id"]) as connection:
        partial = connection.execute(select(func.count()).select_from(SalesInvoice)).scalar()
    assert 0 < partial < 3000

    simulator.app.latency_seconds = 0
    report = promax("sync", "acme")

    assert report["status"] == "succeeded"
    assert report["doctypes"]["Sales Invoice"]["fetched"] < 3000
    assert_mirror_matches(root_engine, linked["id"], simulator)


@pytest.mark.claim("C-5.4d", "C-6.1a")
@pytest.mark.parametrize("status, retry_after", [(429, None), (429, 1), (503, None), (502, None), (504, None)])
def test_sync_survives_error_storm(linked, simulator, root_engine, tmp_path, status, retry_after):
    from promax.sync.engine import TenantSync

    waits = []
    client = ErpClient(simulator.url, API_KEY, API_SECRET, lock_dir=tmp_path, sleep=waits.append)
    # Three failures in a row, then one success, 30 times: each retried, none fatal.
    for _ in range(30):
        simulator.app.inject(status, count=3, retry_after=retry_after)
        simulator.app.inject(200, count=1)
    run = TenantSync(root_engine, linked["id"], client, page_length=200)

    report = run.run()

    assert report["status"] == "succeeded", report.get("error")
    assert waits[:3] == [1, 2, 4]
    assert len(waits) == 90
    assert_mirror_matches(root_engine, linked["id"], simulator)


@pytest.mark.claim("C-6.1a")
def test_renamed_ledger_entries_replace_old_names(promax, linked, simulator, root_engine):
    promax("sync", "acme")
    collections = simulator.app.collections
    renamed_gl = collections.rename_ledger_entries("GL Entry", 25)
    renamed_sle = collections.rename_ledger_entries("Stock Ledger Entry", 10)

    report = promax("sync", "acme")

    assert report["status"] == "succeeded"
    assert report["doctypes"]["GL Entry"]["deleted"] == 25
    assert report["doctypes"]["Stock Ledger Entry"]["deleted"] == 10
    for spec, pairs in ((GL_ENTRY, renamed_gl), (STOCK_LEDGER_ENTRY, renamed_sle)):
        with tenant_connection(root_engine, linked["id"]) as connection:
            names = set(connection.execute(select(spec.table.c.name)).scalars())
        assert not {old for old, _ in pairs} & names
        assert {new for _, new in pairs} <= names
    assert_mirror_matches(root_engine, linked["id"], simulator)


@pytest.mark.claim("C-6.1a")
def test_cancelled_and_deleted_documents_reconciled(promax, linked, simulator, root_engine):
    promax("sync", "acme")
    collections = simulator.app.collections
    dataset = collections.dataset
    payment = next(p for p in dataset.payment_entries if p["docstatus"] == 1)
    invoice = next(i for i in dataset.purchase_invoices if i["docstatus"] == 1)
    draft = next(o for o in dataset.sales_orders if o["docstatus"] == 0)
    collections.cancel_document("Payment Entry", payment["name"])
    collections.cancel_document("Purchase Invoice", invoice["name"])
    collections.delete_document("Sales Order", draft["name"])

    report = promax("sync", "acme")

    assert report["doctypes"]["Sales Order"]["deleted"] == 1
    with tenant_connection(root_engine, linked["id"]) as connection:
        status = connection.execute(
            select(PaymentEntry.docstatus).where(PaymentEntry.name == payment["name"])
        ).scalar()
        cancelled_entries = connection.execute(
            select(func.count()).select_from(GLEntry).where(
                GLEntry.voucher_no == invoice["name"], GLEntry.is_cancelled == 1
            )
        ).scalar()
        order_items = connection.execute(
            select(func.count()).select_from(SalesOrderItem).where(
                SalesOrderItem.parent == draft["name"]
            )
        ).scalar()
    assert status == 2
    assert cancelled_entries == 2
    assert order_items == 0
    assert_mirror_matches(root_engine, linked["id"], simulator)


@pytest.mark.claim("C-5.4c")
def test_eight_sync_processes_share_four_slots(promax, simulator, environ, tmp_path):
    environ["PROMAX_ERP_LOCK_DIR"] = str(tmp_path / "erp-locks")
    promax("db", "upgrade")
    slugs = [f"org{number}" for number in range(8)]
    for slug in slugs:
        promax("tenant", "create", slug)
        link(promax, slug, simulator)
    simulator.app.latency_seconds = 0.03

    processes = [
        subprocess.Popen([PROMAX, "sync", slug, "--page-length", "500"],
                         env=subprocess_environ(environ), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
        for slug in slugs
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]

    assert [process.returncode for process in processes] == [0] * 8
    for output in outputs:
        assert json.loads(output.decode().splitlines()[-1])["status"] == "succeeded"
    assert simulator.app.max_in_flight_by_account[API_KEY] == 4
    assert simulator.app.rejected_methods == 0


@pytest.mark.claim("C-3.2c", "C-6.2a", "C-6.2b")
def test_secret_absent_from_logs_cache_and_tier2(promax, linked, simulator, root_engine, environ,
                                                  memcached):
    from promax.cache import TenantCache
    from promax.config import load_settings
    from promax.dashboard.figures import sales_overview
    from promax.tenants.engines import TenantEngines

    simulator.app.inject(429, count=2)
    simulator.app.inject(503, count=1)
    result = subprocess.run(
        [PROMAX, "sync", "acme"], env=subprocess_environ(environ, PROMAX_LOG_LEVEL="DEBUG"),
        capture_output=True, timeout=300,
    )
    assert result.returncode == 0
    settings = load_settings(environ=environ)
    engines = TenantEngines(settings)
    cache = TenantCache.from_settings(settings, engines)
    with tenant_connection(engines.get(linked["id"]), linked["id"]) as connection:
        figures = cache.cached(linked["id"], "sales-overview", "perm-test", {},
                               lambda: sales_overview(connection))

    log_lines = result.stderr.decode().splitlines()
    assert any("ERP request retried" in line for line in log_lines)
    assert any('"level": "debug"' in line for line in log_lines)
    for line in log_lines + result.stdout.decode().splitlines():
        assert API_SECRET not in line
    stored = memcached_values(memcached.address)
    assert stored
    for key, value in stored:
        assert API_SECRET.encode() not in (value or b""), key
    with tenant_connection(root_engine, linked["id"]) as connection:
        rows = connection.execute(select(CacheEntry.value)).scalars().all()
        runs = connection.execute(select(SyncRun.error, SyncRun.detail)).all()
    assert rows
    assert figures["totals"]["invoices"] > 0
    for value in rows:
        assert API_SECRET.encode() not in value
    for error, detail in runs:
        assert API_SECRET not in (error or "") + (detail or "")
    engines.dispose()
