"""The mapping of each synced ERP DocType onto its tenant table, with value converters."""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from promax.models import tenant as models

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


def to_time(value):
    """Convert Frappe's ``HH:MM:SS[.ffffff]`` posting time to a time."""
    if value is None or isinstance(value, time):
        return value
    text = str(value)
    layout = "%H:%M:%S.%f" if "." in text else "%H:%M:%S"
    return datetime.strptime(text, layout).time()


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
quantity = decimal_of(3)
rate = decimal_of(9)
percent = decimal_of(3)


@dataclass(frozen=True)
class DocTypeSpec:
    doctype: str
    table: object
    # column name -> converter from the ERP's JSON value
    columns: dict
    # The child table synced with each parent document (Sales Invoice Item, ...).
    child: "DocTypeSpec | None" = None
    # GL and stock ledger entries get renamed after insert, so their rows are
    # replaced per (voucher_type, voucher_no) instead of being upserted by name.
    by_voucher: bool = False

    @property
    def fields(self):
        return list(self.columns)

    def convert(self, document):
        missing = [name for name in ("name", "modified") if document.get(name) in (None, "")]
        if missing and "modified" in self.columns:
            raise ValueError(f"{self.doctype} row without {', '.join(missing)}: {document.get('name')!r}")
        return {column: convert(document.get(column)) for column, convert in self.columns.items()}


def _child(doctype, table, extra):
    columns = {"name": str, "parent": str, "idx": integer, "item_code": text, "qty": quantity,
               "rate": money, "amount": money, "base_amount": money}
    columns.update(extra)
    return DocTypeSpec(doctype, table.__table__, columns)


COMPANY = DocTypeSpec(
    "Company",
    models.Company.__table__,
    {"name": str, "company_name": text, "abbr": text, "default_currency": text, "country": text,
     "modified": to_datetime},
)

CUSTOMER = DocTypeSpec(
    "Customer",
    models.Customer.__table__,
    {"name": str, "customer_name": text, "customer_group": text, "territory": text,
     "disabled": integer, "modified": to_datetime},
)

SUPPLIER = DocTypeSpec(
    "Supplier",
    models.Supplier.__table__,
    {"name": str, "supplier_name": text, "supplier_group": text, "country": text,
     "disabled": integer, "modified": to_datetime},
)

ITEM_GROUP = DocTypeSpec(
    "Item Group",
    models.ItemGroup.__table__,
    {"name": str, "item_group_name": text, "parent_item_group": text, "is_group": integer,
     "modified": to_datetime},
)

ITEM = DocTypeSpec(
    "Item",
    models.Item.__table__,
    {"name": str, "item_name": text, "item_group": text, "stock_uom": text, "disabled": integer,
     "modified": to_datetime},
)

WAREHOUSE = DocTypeSpec(
    "Warehouse",
    models.Warehouse.__table__,
    {"name": str, "warehouse_name": text, "parent_warehouse": text, "company": text,
     "is_group": integer, "disabled": integer, "modified": to_datetime},
)

ACCOUNT = DocTypeSpec(
    "Account",
    models.Account.__table__,
    {"name": str, "account_name": text, "account_number": text, "parent_account": text,
     "root_type": text, "account_type": text, "company": text, "is_group": integer,
     "modified": to_datetime},
)

COST_CENTER = DocTypeSpec(
    "Cost Center",
    models.CostCenter.__table__,
    {"name": str, "cost_center_name": text, "parent_cost_center": text, "company": text,
     "is_group": integer, "modified": to_datetime},
)

SALES_INVOICE_ITEM = _child(
    "Sales Invoice Item", models.SalesInvoiceItem, {"warehouse": text, "cost_center": text}
)

SALES_INVOICE = DocTypeSpec(
    "Sales Invoice",
    models.SalesInvoice.__table__,
    {
        "name": str,
        "customer": text,
        "company": text,
        "posting_date": to_date,
        "due_date": to_date,
        "currency": text,
        "conversion_rate": rate,
        "grand_total": money,
        "base_grand_total": money,
        "outstanding_amount": money,
        "is_return": integer,
        "return_against": optional_text,
        "status": text,
        "docstatus": integer,
        "modified": to_datetime,
    },
    child=SALES_INVOICE_ITEM,
)

PURCHASE_INVOICE_ITEM = _child(
    "Purchase Invoice Item", models.PurchaseInvoiceItem, {"warehouse": text, "cost_center": text}
)

PURCHASE_INVOICE = DocTypeSpec(
    "Purchase Invoice",
    models.PurchaseInvoice.__table__,
    {
        "name": str,
        "supplier": text,
        "company": text,
        "posting_date": to_date,
        "due_date": to_date,
        "currency": text,
        "conversion_rate": rate,
        "grand_total": money,
        "base_grand_total": money,
        "outstanding_amount": money,
        "is_return": integer,
        "status": text,
        "docstatus": integer,
        "modified": to_datetime,
    },
    child=PURCHASE_INVOICE_ITEM,
)

SALES_ORDER_ITEM = _child(
    "Sales Order Item", models.SalesOrderItem, {"delivered_qty": quantity, "warehouse": text}
)

SALES_ORDER = DocTypeSpec(
    "Sales Order",
    models.SalesOrder.__table__,
    {
        "name": str,
        "customer": text,
        "company": text,
        "transaction_date": to_date,
        "delivery_date": to_date,
        "currency": text,
        "conversion_rate": rate,
        "grand_total": money,
        "base_grand_total": money,
        "per_delivered": percent,
        "per_billed": percent,
        "status": text,
        "docstatus": integer,
        "modified": to_datetime,
    },
    child=SALES_ORDER_ITEM,
)

PURCHASE_ORDER_ITEM = _child(
    "Purchase Order Item", models.PurchaseOrderItem, {"received_qty": quantity, "warehouse": text}
)

PURCHASE_ORDER = DocTypeSpec(
    "Purchase Order",
    models.PurchaseOrder.__table__,
    {
        "name": str,
        "supplier": text,
        "company": text,
        "transaction_date": to_date,
        "schedule_date": to_date,
        "currency": text,
        "conversion_rate": rate,
        "grand_total": money,
        "base_grand_total": money,
        "per_received": percent,
        "per_billed": percent,
        "status": text,
        "docstatus": integer,
        "modified": to_datetime,
    },
    child=PURCHASE_ORDER_ITEM,
)

PAYMENT_ENTRY = DocTypeSpec(
    "Payment Entry",
    models.PaymentEntry.__table__,
    {
        "name": str,
        "payment_type": text,
        "posting_date": to_date,
        "party_type": text,
        "party": text,
        "paid_amount": money,
        "received_amount": money,
        "base_paid_amount": money,
        "mode_of_payment": text,
        "status": text,
        "company": text,
        "docstatus": integer,
        "modified": to_datetime,
    },
)

GL_ENTRY = DocTypeSpec(
    "GL Entry",
    models.GLEntry.__table__,
    {
        "name": str,
        "posting_date": to_date,
        "account": text,
        "party_type": text,
        "party": text,
        "voucher_type": text,
        "voucher_no": text,
        "debit": money,
        "credit": money,
        "cost_center": text,
        "company": text,
        "fiscal_year": text,
        "is_opening": text,
        "is_cancelled": integer,
        "modified": to_datetime,
    },
    by_voucher=True,
)

STOCK_LEDGER_ENTRY = DocTypeSpec(
    "Stock Ledger Entry",
    models.StockLedgerEntry.__table__,
    {
        "name": str,
        "item_code": text,
        "warehouse": text,
        "posting_date": to_date,
        "posting_time": to_time,
        "actual_qty": quantity,
        "qty_after_transaction": quantity,
        "valuation_rate": rate,
        "stock_value": money,
        "stock_value_difference": money,
        "voucher_type": text,
        "voucher_no": text,
        "company": text,
        "is_cancelled": integer,
        "modified": to_datetime,
    },
    by_voucher=True,
)

# The ERP's Bin DocType: one row of stock levels per item and warehouse.
STOCK_LEVEL = DocTypeSpec(
    "Bin",
    models.StockLevel.__table__,
    {
        "name": str,
        "item_code": text,
        "warehouse": text,
        "actual_qty": quantity,
        "reserved_qty": quantity,
        "ordered_qty": quantity,
        "projected_qty": quantity,
        "valuation_rate": rate,
        "stock_value": money,
        "modified": to_datetime,
    },
)

# Synced in this order, so documents arrive after the masters they name.
TOP_LEVEL = (
    COMPANY,
    CUSTOMER,
    SUPPLIER,
    ITEM_GROUP,
    ITEM,
    WAREHOUSE,
    ACCOUNT,
    COST_CENTER,
    SALES_INVOICE,
    PURCHASE_INVOICE,
    SALES_ORDER,
    PURCHASE_ORDER,
    PAYMENT_ENTRY,
    GL_ENTRY,
    STOCK_LEDGER_ENTRY,
    STOCK_LEVEL,
)
CHILDREN = tuple(spec.child for spec in TOP_LEVEL if spec.child is not None)
ALL_SPECS = TOP_LEVEL + CHILDREN
BY_DOCTYPE = {spec.doctype: spec for spec in ALL_SPECS}
