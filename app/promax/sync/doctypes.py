"""The mapping of each synced ERP DocType onto its tenant table, with value converters."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from promax.models.tenant import Customer, Item, SalesInvoice, SalesInvoiceItem

CENT = Decimal("0.01")


def to_datetime(value):
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    layout = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, layout)


def to_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def decimal_of(places):
    exponent = Decimal(1).scaleb(-places)

    def convert(value):
        return Decimal(str(value if value is not None else 0)).quantize(exponent)

    return convert


def text(value):
    return "" if value is None else str(value)


def optional_text(value):
    return None if value in (None, "") else str(value)


def integer(value):
    return int(value or 0)


money = decimal_of(2)


@dataclass(frozen=True)
class DocTypeSpec:
    doctype: str
    table: object
    # column name -> converter from the ERP's JSON value
    columns: dict

    @property
    def fields(self):
        return list(self.columns)

    def convert(self, document):
        missing = [name for name in ("name", "modified") if document.get(name) in (None, "")]
        if missing and "modified" in self.columns:
            raise ValueError(f"{self.doctype} row without {', '.join(missing)}: {document.get('name')!r}")
        return {column: convert(document.get(column)) for column, convert in self.columns.items()}


CUSTOMER = DocTypeSpec(
    "Customer",
    Customer.__table__,
    {
        "name": str,
        "customer_name": text,
        "customer_group": text,
        "territory": text,
        "disabled": integer,
        "modified": to_datetime,
    },
)

ITEM = DocTypeSpec(
    "Item",
    Item.__table__,
    {
        "name": str,
        "item_name": text,
        "item_group": text,
        "stock_uom": text,
        "disabled": integer,
        "modified": to_datetime,
    },
)

SALES_INVOICE = DocTypeSpec(
    "Sales Invoice",
    SalesInvoice.__table__,
    {
        "name": str,
        "customer": text,
        "company": text,
        "posting_date": to_date,
        "due_date": to_date,
        "currency": text,
        "conversion_rate": decimal_of(9),
        "grand_total": money,
        "base_grand_total": money,
        "outstanding_amount": money,
        "is_return": integer,
        "return_against": optional_text,
        "status": text,
        "docstatus": integer,
        "modified": to_datetime,
    },
)

SALES_INVOICE_ITEM = DocTypeSpec(
    "Sales Invoice Item",
    SalesInvoiceItem.__table__,
    {
        "name": str,
        "parent": str,
        "idx": integer,
        "item_code": text,
        "qty": decimal_of(3),
        "rate": money,
        "amount": money,
        "base_amount": money,
        "warehouse": text,
        "cost_center": text,
    },
)

# Synced in this order, so invoices arrive after the customers and items they name.
TOP_LEVEL = (CUSTOMER, ITEM, SALES_INVOICE)
