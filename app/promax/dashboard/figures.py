"""Sales figures computed from a tenant's mirror tables.

Revenue is the sum of ``base_grand_total`` (company currency) over submitted
sales invoices (docstatus 1); credit notes are submitted invoices with
negative totals, so they reduce it. Drafts and cancelled invoices do not count.
Amounts are returned as strings with two decimals, so JSON keeps them exact.
"""

from decimal import Decimal

from sqlalchemy import func, select

from promax.models.tenant import Customer, SalesInvoice

SUBMITTED = 1
# Tab -> the ERP DocTypes its figures read. A sync that changes one of them
# retires the tab's cached values (promax.cache.invalidate_changes).
TAB_SOURCES = {
    "sales-overview": ("Sales Invoice", "Customer"),
}
TOP_CUSTOMERS = 10
CENT = Decimal("0.01")


def money(value):
    return str(Decimal(value or 0).quantize(CENT))


def sales_overview(connection):
    """Return revenue by month, the top customers and totals for one tenant."""
    submitted = SalesInvoice.docstatus == SUBMITTED

    company = connection.execute(
        select(SalesInvoice.company, SalesInvoice.currency)
        .where(submitted)
        .order_by(SalesInvoice.name)
        .limit(1)
    ).first()

    totals = connection.execute(
        select(func.coalesce(func.sum(SalesInvoice.base_grand_total), 0), func.count())
        .where(submitted)
    ).one()

    month = func.date_format(SalesInvoice.posting_date, "%Y-%m")
    by_month = connection.execute(
        select(month.label("month"), func.sum(SalesInvoice.base_grand_total), func.count())
        .where(submitted)
        .group_by(month)
        .order_by(month)
    ).all()

    revenue = func.sum(SalesInvoice.base_grand_total).label("revenue")
    top = connection.execute(
        select(
            SalesInvoice.customer,
            func.coalesce(func.max(Customer.customer_name), SalesInvoice.customer),
            revenue,
            func.count(),
        )
        .outerjoin(Customer, Customer.name == SalesInvoice.customer)
        .where(submitted)
        .group_by(SalesInvoice.customer)
        .order_by(revenue.desc(), SalesInvoice.customer.asc())
        .limit(TOP_CUSTOMERS)
    ).all()

    return {
        "company": company[0] if company else None,
        "currency": company[1] if company else None,
        "totals": {"revenue": money(totals[0]), "invoices": totals[1]},
        "revenue_by_month": [
            {"month": row[0], "revenue": money(row[1]), "invoices": row[2]} for row in by_month
        ],
        "top_customers": [
            {"customer": row[0], "customer_name": row[1], "revenue": money(row[2]),
             "invoices": row[3]}
            for row in top
        ],
    }
