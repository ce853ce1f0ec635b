"""``promax sync`` from the simulator into a tenant schema."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from support.erpsim import API_KEY, API_SECRET

from promax.dashboard.figures import sales_overview
from promax.erp.client import ErpClient
from promax.erpsim.expected import expected_figures
from promax.models.tenant import Customer, Item, SalesInvoice, SalesInvoiceItem, SyncRun
from promax.sync.doctypes import CUSTOMER, ITEM
from promax.sync.engine import TenantSync
from promax.tenants.schema import tenant_connection


@pytest.fixture
def linked(promax, acme, simulator):
    promax(
        "erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY, "--api-secret-stdin",
        stdin=API_SECRET + "\n",
    )
    return acme


@pytest.fixture
def engine(database_url, mariadb):
    """Root on the control-plane database: it can read both audit events and tenant schemas."""
    engine = create_engine(mariadb.url(make_url(database_url).database, user="root", password=""))
    yield engine
    engine.dispose()


def count(engine, organisation_id, model):
    with tenant_connection(engine, organisation_id) as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar()


@pytest.mark.claim("C-6.1a", "C-5.4a")
def test_full_sync_matches_expected_figures(promax, linked, simulator, engine):
    dataset = simulator.app.collections.dataset

    report = promax("sync", "acme")

    assert report["status"] == "succeeded"
    assert report["doctypes"]["Customer"] == {"fetched": 40, "changed": 40, "deleted": 0}
    assert report["doctypes"]["Item"] == {"fetched": 30, "changed": 30, "deleted": 0}
    assert report["doctypes"]["Sales Invoice"] == {"fetched": 3000, "changed": 3000, "deleted": 0}
    item_rows = sum(len(invoice["items"]) for invoice in dataset.invoices)
    assert report["doctypes"]["Sales Invoice Item"] == {"fetched": item_rows, "changed": item_rows, "deleted": 0}
    assert count(engine, linked["id"], SalesInvoiceItem) == item_rows
    with tenant_connection(engine, linked["id"]) as connection:
        figures = sales_overview(connection)
    assert figures == expected_figures(dataset)


def test_second_sync_changes_nothing(promax, linked, engine):
    first = promax("sync", "acme")

    again = promax("sync", "acme")

    assert again["changed"] is False
    assert again["rows_changed"] == 0
    assert again["rows_fetched"] == 0
    with tenant_connection(engine, linked["id"]) as connection:
        runs = connection.execute(select(SyncRun.status, SyncRun.rows_changed).order_by(SyncRun.id)).all()
    assert first["rows_changed"] > 0
    assert [tuple(run) for run in runs] == [
        ("succeeded", first["rows_changed"]),
        ("succeeded", 0),
    ]


def test_small_pages_cross_modified_ties(linked, simulator, engine, tmp_path):
    """Page length 2 cuts runs of equal `modified` values; no row is skipped or repeated."""
    dataset = simulator.app.collections.dataset
    client = ErpClient(simulator.url, API_KEY, API_SECRET, lock_dir=tmp_path)
    run = TenantSync(engine, linked["id"], client, page_length=2)

    for spec in (CUSTOMER, ITEM):
        stamps = [document["modified"] for document in getattr(dataset, spec.table.name + "s")]
        assert len(set(stamps)) < len(stamps), f"no {spec.doctype} shares a modified value"
        run.sync_doctype(spec)

    assert run.counts["Customer"].as_dict() == {"fetched": 40, "changed": 40, "deleted": 0}
    assert run.counts["Item"].as_dict() == {"fetched": 30, "changed": 30, "deleted": 0}
    assert count(engine, linked["id"], Customer) == 40
    assert count(engine, linked["id"], Item) == 30


def test_ties_exist_in_dataset(simulator):
    invoices = simulator.app.collections.dataset.invoices
    stamps = [invoice["modified"] for invoice in invoices]

    assert len(set(stamps)) < len(stamps)


def test_changed_invoice_is_resynced(promax, linked, simulator, engine):
    promax("sync", "acme")
    dataset = simulator.app.collections.dataset
    invoice = next(i for i in dataset.invoices if i["docstatus"] == 1 and len(i["items"]) > 1)
    latest = max(i["modified"] for i in dataset.invoices)
    with simulator.app.collections.lock:
        dropped = invoice["items"].pop()
        invoice["grand_total"] -= dropped["amount"]
        invoice["base_grand_total"] = invoice["grand_total"]
        invoice["modified"] = latest + timedelta(seconds=1)
        for row in invoice["items"]:
            row["modified"] = invoice["modified"]

    report = promax("sync", "acme")

    assert report["doctypes"]["Sales Invoice"] == {"fetched": 1, "changed": 1, "deleted": 0}
    assert report["doctypes"]["Sales Invoice Item"]["changed"] == len(invoice["items"])
    with tenant_connection(engine, linked["id"]) as connection:
        rows = connection.execute(
            select(SalesInvoiceItem.name).where(SalesInvoiceItem.parent == invoice["name"])
        ).scalars().all()
        total = connection.execute(
            select(SalesInvoice.base_grand_total).where(SalesInvoice.name == invoice["name"])
        ).scalar()
        assert sales_overview(connection) == expected_figures(dataset)
    assert sorted(rows) == sorted(row["name"] for row in invoice["items"])
    assert total == invoice["grand_total"]


@pytest.mark.claim("C-3.2c")
def test_failed_sync_is_recorded_without_secret(promax, linked, simulator, engine, database_url):
    simulator.app.accounts[API_KEY] = "rotated-in-the-erp"

    report = promax("sync", "acme", expect_status=1)

    assert report["status"] == "failed"
    assert "401" in report["error"]
    assert API_SECRET not in json.dumps(report)
    with tenant_connection(engine, linked["id"]) as connection:
        run = connection.execute(select(SyncRun)).one()
    assert run.status == "failed"
    assert API_SECRET not in run.error
    with engine.connect() as connection:
        events = connection.execute(text("SELECT event_type, detail FROM audit_events ORDER BY id")).all()
    assert [event.event_type for event in events] == ["erp.link_updated", "sync.failed"]
    assert API_SECRET not in events[1].detail


def test_sync_all_and_audit(promax, linked, engine):
    promax("tenant", "create", "beta")  # no ERP link, so --all skips it

    result = promax("sync", "--all")

    assert [report["org"] for report in result["orgs"]] == ["acme"]
    assert result["changed"] is True
    with engine.connect() as connection:
        detail = connection.execute(
            text("SELECT detail FROM audit_events WHERE event_type = 'sync.completed'")
        ).scalar()
    assert json.loads(detail)["rows_changed"] == result["orgs"][0]["rows_changed"]


def test_stored_money_is_exact(promax, linked, simulator, engine):
    promax("sync", "acme")
    invoice = simulator.app.collections.dataset.invoices[7]

    with tenant_connection(engine, linked["id"]) as connection:
        stored = connection.execute(
            select(SalesInvoice.grand_total).where(SalesInvoice.name == invoice["name"])
        ).scalar()

    assert stored == invoice["grand_total"]
    assert stored.as_tuple().exponent == -2
    assert isinstance(stored, Decimal)
