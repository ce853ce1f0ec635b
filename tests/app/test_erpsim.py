"""The ERP simulator: a deterministic dataset and Frappe-like list queries."""

import json
from decimal import Decimal

import pytest
from support.erpsim import API_KEY, API_SECRET

from promax.erp.client import ErpClient
from promax.erpsim.dataset import build_dataset
from promax.erpsim.expected import expected_figures


def test_dataset_is_deterministic():
    first, second = build_dataset(7), build_dataset(7)

    assert first.invoices == second.invoices
    assert first.customers == second.customers
    assert build_dataset(8).invoices != first.invoices


def test_dataset_shape():
    dataset = build_dataset()
    statuses = {invoice["docstatus"] for invoice in dataset.invoices}
    returns = [invoice for invoice in dataset.invoices if invoice["is_return"]]
    names = {invoice["name"] for invoice in dataset.invoices}

    assert len(dataset.customers) == 40
    assert len(dataset.items) == 30
    assert 2900 <= len(dataset.invoices) <= 3100
    assert statuses == {0, 1, 2}
    assert returns
    for credit_note in returns:
        assert credit_note["grand_total"] < 0
        assert credit_note["return_against"] in names
    for invoice in dataset.invoices:
        assert 1 <= len(invoice["items"]) <= 5
        assert invoice["grand_total"] == sum(row["amount"] for row in invoice["items"])
        assert invoice["grand_total"].as_tuple().exponent == -2


def test_expected_figures_agree_with_dataset():
    dataset = build_dataset()
    figures = expected_figures(dataset)
    submitted = [invoice for invoice in dataset.invoices if invoice["docstatus"] == 1]

    assert figures["company"] == "Demo Trading Ltd"
    assert figures["currency"] == "USD"
    assert figures["totals"]["invoices"] == len(submitted)
    assert Decimal(figures["totals"]["revenue"]) == sum(i["base_grand_total"] for i in submitted)
    assert sum(month["invoices"] for month in figures["revenue_by_month"]) == len(submitted)
    months = [month["month"] for month in figures["revenue_by_month"]]
    assert months == sorted(months)
    assert months[0] == "2024-01"
    assert months[-1] == "2025-12"
    revenues = [Decimal(customer["revenue"]) for customer in figures["top_customers"]]
    assert len(revenues) == 10
    assert revenues == sorted(revenues, reverse=True)
    for amount in [figures["totals"]["revenue"], *(m["revenue"] for m in figures["revenue_by_month"])]:
        assert len(amount.split(".")[1]) == 2


def test_expected_command_prints_figures(promax):
    result = promax("erp-sim", "expected")

    assert "changed" not in result
    assert result == json.loads(json.dumps(expected_figures(build_dataset())))


def test_list_filters_order_and_paging(simulator, lock_dir):
    client = ErpClient(simulator.url, API_KEY, API_SECRET, lock_dir=lock_dir)

    everything = client.list_documents("Customer", ["name", "modified"], order_by="modified asc, name asc", limit_page_length=0)
    pages = [
        client.list_documents("Customer", ["name"], order_by="modified asc, name asc", limit_start=start, limit_page_length=7)
        for start in range(0, 40, 7)
    ]
    drafts = client.list_documents("Sales Invoice", ["name", "docstatus"], filters={"docstatus": 0}, limit_page_length=500)
    chosen = client.list_documents("Customer", ["name"], filters=[["name", "in", ["CUST-00003", "CUST-00005"]]], order_by="name desc")

    assert [row["name"] for row in everything] == [row["name"] for page in pages for row in page]
    assert [(row["modified"], row["name"]) for row in everything] == sorted((row["modified"], row["name"]) for row in everything)
    assert drafts
    assert {row["docstatus"] for row in drafts} == {0}
    assert [row["name"] for row in chosen] == ["CUST-00005", "CUST-00003"]
    assert len(client.list_documents("Item")) == 20
    assert list(client.list_documents("Item")[0]) == ["name"]


def test_child_table_needs_parent(simulator, lock_dir):
    client = ErpClient(simulator.url, API_KEY, API_SECRET, lock_dir=lock_dir)

    with pytest.raises(Exception) as raised:
        client.list_documents("Sales Invoice Item", ["name"])

    assert getattr(raised.value, "status", None) == 403


def test_basic_auth_accepted(simulator):
    import base64
    import urllib.request

    token = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    request = urllib.request.Request(
        simulator.url + "/api/method/frappe.auth.get_logged_user",
        headers={"Authorization": f"Basic {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response) == {"message": "promax-reader@example.com"}


def test_serve_rejects_non_loopback_host(promax):
    promax("erp-sim", "serve", "--host", "0.0.0.0", "--api-key", "k", "--api-secret", "s", expect_status=2)
