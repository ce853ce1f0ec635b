"""Tables of a tenant schema: mirrors of ERP documents plus per-tenant state.

Every table is declared in the placeholder schema ``tenant``. At run time a
connection maps it to the organisation's real schema with SQLAlchemy's
``schema_translate_map`` (see ``promax.tenants.schema``), so the same models
serve every tenant and no schema name is ever formatted into SQL by hand.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from promax.models.control import NAMING

# Placeholder schema name; schema_translate_map replaces it per connection.
TENANT_SCHEMA = "tenant"

Money = Numeric(18, 2)
Quantity = Numeric(18, 3)
# Frappe stores `modified` with microseconds; keep them so the sync cursor is exact.
Modified = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
PostingTime = Time().with_variant(mysql.TIME(fsp=6), "mysql", "mariadb")
Rate = Numeric(18, 9)
Percent = Numeric(9, 3)

# Every table of a tenant schema, including alembic's version table, which
# the tenant migrations keep inside the schema. The count is part of the
# product's isolation promise, so a test compares the live schema with it.
TENANT_TABLE_COUNT = 24
VERSION_TABLE = "alembic_version"


class TenantBase(DeclarativeBase):
    metadata = MetaData(schema=TENANT_SCHEMA, naming_convention=NAMING)


class Customer(TenantBase):
    __tablename__ = "customer"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_group: Mapped[str] = mapped_column(String(140), default="")
    territory: Mapped[str] = mapped_column(String(140), default="")
    disabled: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class Item(TenantBase):
    __tablename__ = "item"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    item_name: Mapped[str] = mapped_column(String(200))
    item_group: Mapped[str] = mapped_column(String(140), default="")
    stock_uom: Mapped[str] = mapped_column(String(40), default="")
    disabled: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class SalesInvoice(TenantBase):
    __tablename__ = "sales_invoice"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    customer: Mapped[str] = mapped_column(String(140), index=True)
    company: Mapped[str] = mapped_column(String(140), default="")
    posting_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    conversion_rate: Mapped[Decimal] = mapped_column(Numeric(18, 9), default=Decimal(1))
    grand_total: Mapped[Decimal] = mapped_column(Money)
    base_grand_total: Mapped[Decimal] = mapped_column(Money)
    outstanding_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    is_return: Mapped[int] = mapped_column(SmallInteger, default=0)
    return_against: Mapped[str | None] = mapped_column(String(140), nullable=True)
    status: Mapped[str] = mapped_column(String(40), default="")
    # 0 draft, 1 submitted, 2 cancelled; analytics count submitted documents only.
    docstatus: Mapped[int] = mapped_column(SmallInteger, index=True)
    modified: Mapped[datetime] = mapped_column(Modified)


class SalesInvoiceItem(TenantBase):
    __tablename__ = "sales_invoice_item"

    # Frappe child rows have their own unique `name`.
    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey(f"{TENANT_SCHEMA}.sales_invoice.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(Integer, default=0)
    item_code: Mapped[str] = mapped_column(String(140), index=True)
    qty: Mapped[Decimal] = mapped_column(Quantity)
    rate: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    base_amount: Mapped[Decimal] = mapped_column(Money)
    warehouse: Mapped[str] = mapped_column(String(140), default="")
    cost_center: Mapped[str] = mapped_column(String(140), default="")


class Company(TenantBase):
    __tablename__ = "company"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    abbr: Mapped[str] = mapped_column(String(20), default="")
    default_currency: Mapped[str] = mapped_column(String(3), default="")
    country: Mapped[str] = mapped_column(String(140), default="")
    modified: Mapped[datetime] = mapped_column(Modified)


class Supplier(TenantBase):
    __tablename__ = "supplier"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    supplier_name: Mapped[str] = mapped_column(String(200))
    supplier_group: Mapped[str] = mapped_column(String(140), default="")
    country: Mapped[str] = mapped_column(String(140), default="")
    disabled: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class ItemGroup(TenantBase):
    __tablename__ = "item_group"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    item_group_name: Mapped[str] = mapped_column(String(200))
    parent_item_group: Mapped[str] = mapped_column(String(140), default="")
    is_group: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class Warehouse(TenantBase):
    __tablename__ = "warehouse"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    warehouse_name: Mapped[str] = mapped_column(String(200))
    parent_warehouse: Mapped[str] = mapped_column(String(140), default="")
    company: Mapped[str] = mapped_column(String(140), default="")
    is_group: Mapped[int] = mapped_column(SmallInteger, default=0)
    disabled: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class Account(TenantBase):
    __tablename__ = "account"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    account_name: Mapped[str] = mapped_column(String(200))
    account_number: Mapped[str] = mapped_column(String(40), default="")
    parent_account: Mapped[str] = mapped_column(String(140), default="")
    root_type: Mapped[str] = mapped_column(String(20), default="")
    account_type: Mapped[str] = mapped_column(String(40), default="")
    company: Mapped[str] = mapped_column(String(140), default="")
    is_group: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class CostCenter(TenantBase):
    __tablename__ = "cost_center"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    cost_center_name: Mapped[str] = mapped_column(String(200))
    parent_cost_center: Mapped[str] = mapped_column(String(140), default="")
    company: Mapped[str] = mapped_column(String(140), default="")
    is_group: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class PurchaseInvoice(TenantBase):
    __tablename__ = "purchase_invoice"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    supplier: Mapped[str] = mapped_column(String(140), index=True)
    company: Mapped[str] = mapped_column(String(140), default="")
    posting_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    conversion_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(1))
    grand_total: Mapped[Decimal] = mapped_column(Money)
    base_grand_total: Mapped[Decimal] = mapped_column(Money)
    outstanding_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    is_return: Mapped[int] = mapped_column(SmallInteger, default=0)
    status: Mapped[str] = mapped_column(String(40), default="")
    docstatus: Mapped[int] = mapped_column(SmallInteger, index=True)
    modified: Mapped[datetime] = mapped_column(Modified)


class PurchaseInvoiceItem(TenantBase):
    __tablename__ = "purchase_invoice_item"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey(f"{TENANT_SCHEMA}.purchase_invoice.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(Integer, default=0)
    item_code: Mapped[str] = mapped_column(String(140), index=True)
    qty: Mapped[Decimal] = mapped_column(Quantity)
    rate: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    base_amount: Mapped[Decimal] = mapped_column(Money)
    warehouse: Mapped[str] = mapped_column(String(140), default="")
    cost_center: Mapped[str] = mapped_column(String(140), default="")


class SalesOrder(TenantBase):
    __tablename__ = "sales_order"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    customer: Mapped[str] = mapped_column(String(140), index=True)
    company: Mapped[str] = mapped_column(String(140), default="")
    transaction_date: Mapped[date] = mapped_column(Date, index=True)
    delivery_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    conversion_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(1))
    grand_total: Mapped[Decimal] = mapped_column(Money)
    base_grand_total: Mapped[Decimal] = mapped_column(Money)
    per_delivered: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    per_billed: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(40), default="")
    docstatus: Mapped[int] = mapped_column(SmallInteger, index=True)
    modified: Mapped[datetime] = mapped_column(Modified)


class SalesOrderItem(TenantBase):
    __tablename__ = "sales_order_item"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey(f"{TENANT_SCHEMA}.sales_order.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(Integer, default=0)
    item_code: Mapped[str] = mapped_column(String(140), index=True)
    qty: Mapped[Decimal] = mapped_column(Quantity)
    rate: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    base_amount: Mapped[Decimal] = mapped_column(Money)
    delivered_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    warehouse: Mapped[str] = mapped_column(String(140), default="")


class PurchaseOrder(TenantBase):
    __tablename__ = "purchase_order"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    supplier: Mapped[str] = mapped_column(String(140), index=True)
    company: Mapped[str] = mapped_column(String(140), default="")
    transaction_date: Mapped[date] = mapped_column(Date, index=True)
    schedule_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    conversion_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(1))
    grand_total: Mapped[Decimal] = mapped_column(Money)
    base_grand_total: Mapped[Decimal] = mapped_column(Money)
    per_received: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    per_billed: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    status: Mapped[str] = mapped_column(String(40), default="")
    docstatus: Mapped[int] = mapped_column(SmallInteger, index=True)
    modified: Mapped[datetime] = mapped_column(Modified)


class PurchaseOrderItem(TenantBase):
    __tablename__ = "purchase_order_item"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    parent: Mapped[str] = mapped_column(
        ForeignKey(f"{TENANT_SCHEMA}.purchase_order.name", ondelete="CASCADE"), index=True
    )
    idx: Mapped[int] = mapped_column(Integer, default=0)
    item_code: Mapped[str] = mapped_column(String(140), index=True)
    qty: Mapped[Decimal] = mapped_column(Quantity)
    rate: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    base_amount: Mapped[Decimal] = mapped_column(Money)
    received_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    warehouse: Mapped[str] = mapped_column(String(140), default="")


class PaymentEntry(TenantBase):
    __tablename__ = "payment_entry"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    payment_type: Mapped[str] = mapped_column(String(40))  # Receive, Pay, Internal Transfer
    posting_date: Mapped[date] = mapped_column(Date, index=True)
    party_type: Mapped[str] = mapped_column(String(40), default="")
    party: Mapped[str] = mapped_column(String(140), default="", index=True)
    paid_amount: Mapped[Decimal] = mapped_column(Money)
    received_amount: Mapped[Decimal] = mapped_column(Money)
    base_paid_amount: Mapped[Decimal] = mapped_column(Money)
    mode_of_payment: Mapped[str] = mapped_column(String(140), default="")
    status: Mapped[str] = mapped_column(String(40), default="")
    company: Mapped[str] = mapped_column(String(140), default="")
    docstatus: Mapped[int] = mapped_column(SmallInteger, index=True)
    modified: Mapped[datetime] = mapped_column(Modified)


class GLEntry(TenantBase):
    """A general-ledger entry; mirrored per voucher because the ERP renames entries."""

    __tablename__ = "gl_entry"
    __table_args__ = (Index("ix_gl_entry_voucher", "voucher_type", "voucher_no"),)

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    posting_date: Mapped[date] = mapped_column(Date, index=True)
    account: Mapped[str] = mapped_column(String(140), index=True)
    party_type: Mapped[str] = mapped_column(String(40), default="")
    party: Mapped[str] = mapped_column(String(140), default="")
    voucher_type: Mapped[str] = mapped_column(String(140))
    voucher_no: Mapped[str] = mapped_column(String(140))
    debit: Mapped[Decimal] = mapped_column(Money)
    credit: Mapped[Decimal] = mapped_column(Money)
    cost_center: Mapped[str] = mapped_column(String(140), default="")
    company: Mapped[str] = mapped_column(String(140), default="")
    fiscal_year: Mapped[str] = mapped_column(String(20), default="")
    is_opening: Mapped[str] = mapped_column(String(3), default="No")
    is_cancelled: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class StockLedgerEntry(TenantBase):
    """A stock movement; mirrored per voucher because the ERP renames entries."""

    __tablename__ = "stock_ledger_entry"
    __table_args__ = (Index("ix_stock_ledger_entry_voucher", "voucher_type", "voucher_no"),)

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(140), index=True)
    warehouse: Mapped[str] = mapped_column(String(140), default="")
    posting_date: Mapped[date] = mapped_column(Date, index=True)
    posting_time: Mapped[object] = mapped_column(PostingTime)
    actual_qty: Mapped[Decimal] = mapped_column(Quantity)
    qty_after_transaction: Mapped[Decimal] = mapped_column(Quantity)
    valuation_rate: Mapped[Decimal] = mapped_column(Rate)
    stock_value: Mapped[Decimal] = mapped_column(Money)
    stock_value_difference: Mapped[Decimal] = mapped_column(Money)
    voucher_type: Mapped[str] = mapped_column(String(140))
    voucher_no: Mapped[str] = mapped_column(String(140))
    company: Mapped[str] = mapped_column(String(140), default="")
    is_cancelled: Mapped[int] = mapped_column(SmallInteger, default=0)
    modified: Mapped[datetime] = mapped_column(Modified)


class StockLevel(TenantBase):
    """Stock on hand per item and warehouse: the ERP's Bin DocType."""

    __tablename__ = "stock_level"

    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(140), index=True)
    warehouse: Mapped[str] = mapped_column(String(140), default="")
    actual_qty: Mapped[Decimal] = mapped_column(Quantity)
    reserved_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    ordered_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    projected_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    valuation_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(0))
    stock_value: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    modified: Mapped[datetime] = mapped_column(Modified)


class SyncState(TenantBase):
    """The incremental-sync cursor of one ERP document type."""

    __tablename__ = "sync_state"

    doctype: Mapped[str] = mapped_column(String(140), primary_key=True)
    # The cursor is the pair (modified, name) of the last row committed, because
    # several documents can share one `modified` value.
    cursor_modified: Mapped[datetime | None] = mapped_column(Modified, nullable=True)
    cursor_name: Mapped[str] = mapped_column(String(140), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SyncRun(TenantBase):
    """One run of ``promax sync``, with its counts and its error if it failed."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # running, succeeded, failed
    rows_fetched: Mapped[int] = mapped_column(Integer, default=0)
    rows_changed: Mapped[int] = mapped_column(Integer, default=0)
    rows_deleted: Mapped[int] = mapped_column(Integer, default=0)
    # Per-DocType counts as JSON: {"Sales Invoice": {"fetched": 3, ...}, ...}
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class CacheEntry(TenantBase):
    """Tier-2 cache: computed figures of one tab, kept until ``expires_at`` or a sync."""

    __tablename__ = "cache_entry"

    # The tier-1 key without its tenant and generation parts: tab, scope and parameter hash.
    cache_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tab: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[bytes] = mapped_column(LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
