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
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
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
    error: Mapped[str] = mapped_column(Text, default="")
