"""The sales figures a correct sync and dashboard must show for a simulator dataset.

Revenue is the sum of ``base_grand_total`` over submitted invoices
(docstatus 1); credit notes (is_return 1) are submitted invoices too and
count with their negative totals. Amounts are strings with two decimals.
"""

from collections import defaultdict
from decimal import Decimal

from promax.erpsim.dataset import COMPANY, CURRENCY

TOP_CUSTOMER_COUNT = 10


def _amount(value):
    return f"{value:.2f}"


def expected_figures(dataset):
    """Return totals, revenue by month and the top 10 customers of a dataset."""
    names = dataset.customer_names()
    submitted = [invoice for invoice in dataset.invoices if invoice["docstatus"] == 1]

    months = defaultdict(lambda: [Decimal("0.00"), 0])
    customers = defaultdict(lambda: [Decimal("0.00"), 0])
    for invoice in submitted:
        for bucket in (
            months[invoice["posting_date"].strftime("%Y-%m")],
            customers[invoice["customer"]],
        ):
            bucket[0] += invoice["base_grand_total"]
            bucket[1] += 1

    ranked = sorted(customers.items(), key=lambda entry: (-entry[1][0], entry[0]))
    return {
        "company": COMPANY,
        "currency": CURRENCY,
        "totals": {
            "revenue": _amount(sum((i["base_grand_total"] for i in submitted), Decimal("0.00"))),
            "invoices": len(submitted),
        },
        "revenue_by_month": [
            {"month": month, "revenue": _amount(revenue), "invoices": count}
            for month, (revenue, count) in sorted(months.items())
        ],
        "top_customers": [
            {
                "customer": customer,
                "customer_name": names.get(customer, ""),
                "revenue": _amount(revenue),
                "invoices": count,
            }
            for customer, (revenue, count) in ranked[:TOP_CUSTOMER_COUNT]
        ],
    }
