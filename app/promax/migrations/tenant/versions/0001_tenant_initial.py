"""Create the first ERP mirror tables (customer, item, sales invoice) and sync state.

Revision ID: t0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "t0001"
down_revision = None
branch_labels = None
depends_on = None

# The placeholder schema; the connection translates it to tenant_<id>.
SCHEMA = "tenant"
TABLE_OPTIONS = {"schema": SCHEMA, "mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
MODIFIED = mysql.DATETIME(fsp=6)
MONEY = sa.Numeric(18, 2)


def upgrade():
    op.create_table(
        "customer",
        sa.Column("name", sa.String(140), primary_key=True),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_group", sa.String(140), nullable=False),
        sa.Column("territory", sa.String(140), nullable=False),
        sa.Column("disabled", sa.SmallInteger, nullable=False),
        sa.Column("modified", MODIFIED, nullable=False),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "item",
        sa.Column("name", sa.String(140), primary_key=True),
        sa.Column("item_name", sa.String(200), nullable=False),
        sa.Column("item_group", sa.String(140), nullable=False),
        sa.Column("stock_uom", sa.String(40), nullable=False),
        sa.Column("disabled", sa.SmallInteger, nullable=False),
        sa.Column("modified", MODIFIED, nullable=False),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "sales_invoice",
        sa.Column("name", sa.String(140), primary_key=True),
        sa.Column("customer", sa.String(140), nullable=False),
        sa.Column("company", sa.String(140), nullable=False),
        sa.Column("posting_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("conversion_rate", sa.Numeric(18, 9), nullable=False),
        sa.Column("grand_total", MONEY, nullable=False),
        sa.Column("base_grand_total", MONEY, nullable=False),
        sa.Column("outstanding_amount", MONEY, nullable=False),
        sa.Column("is_return", sa.SmallInteger, nullable=False),
        sa.Column("return_against", sa.String(140), nullable=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("docstatus", sa.SmallInteger, nullable=False),
        sa.Column("modified", MODIFIED, nullable=False),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_sales_invoice_customer", "sales_invoice", ["customer"], schema=SCHEMA)
    op.create_index(
        "ix_sales_invoice_posting_date", "sales_invoice", ["posting_date"], schema=SCHEMA
    )
    op.create_index("ix_sales_invoice_docstatus", "sales_invoice", ["docstatus"], schema=SCHEMA)
    op.create_table(
        "sales_invoice_item",
        sa.Column("name", sa.String(140), primary_key=True),
        sa.Column(
            "parent",
            sa.String(140),
            sa.ForeignKey(
                f"{SCHEMA}.sales_invoice.name",
                name="fk_sales_invoice_item_parent_sales_invoice",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("item_code", sa.String(140), nullable=False),
        sa.Column("qty", sa.Numeric(18, 3), nullable=False),
        sa.Column("rate", MONEY, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("base_amount", MONEY, nullable=False),
        sa.Column("warehouse", sa.String(140), nullable=False),
        sa.Column("cost_center", sa.String(140), nullable=False),
        **TABLE_OPTIONS,
    )
    op.create_index(
        "ix_sales_invoice_item_parent", "sales_invoice_item", ["parent"], schema=SCHEMA
    )
    op.create_index(
        "ix_sales_invoice_item_item_code", "sales_invoice_item", ["item_code"], schema=SCHEMA
    )
    op.create_table(
        "sync_state",
        sa.Column("doctype", sa.String(140), primary_key=True),
        sa.Column("cursor_modified", MODIFIED, nullable=True),
        sa.Column("cursor_name", sa.String(140), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows_fetched", sa.Integer, nullable=False),
        sa.Column("rows_changed", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        **TABLE_OPTIONS,
    )


def downgrade():
    for table in (
        "sync_run",
        "sync_state",
        "sales_invoice_item",
        "sales_invoice",
        "item",
        "customer",
    ):
        op.drop_table(table, schema=SCHEMA)
