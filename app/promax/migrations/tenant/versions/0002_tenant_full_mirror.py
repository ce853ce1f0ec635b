"""Add the remaining ERP mirrors, the tier-2 cache table and per-run sync detail.

After this revision a tenant schema holds 24 tables: 20 ERP mirrors, sync
state, sync runs, the tier-2 cache and alembic's version table.

Revision ID: t0002
Revises: t0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None

SCHEMA = "tenant"
TABLE_OPTIONS = {"schema": SCHEMA, "mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
MODIFIED = mysql.DATETIME(fsp=6)
NEW_TABLES = (
    "company", "supplier", "item_group", "warehouse", "account", "cost_center",
    "purchase_invoice", "purchase_invoice_item", "sales_order", "sales_order_item",
    "purchase_order", "purchase_order_item", "payment_entry", "gl_entry",
    "stock_ledger_entry", "stock_level", "cache_entry",
)


def _real_schema():
    # ALTER TABLE statements bypass schema_translate_map, so they name the
    # tenant's real schema, which env.py also gives alembic for its version table.
    return op.get_context().version_table_schema


def upgrade():
    op.add_column(
        "sync_run", sa.Column("rows_deleted", sa.Integer, nullable=False, server_default="0"),
        schema=_real_schema(),
    )
    op.add_column("sync_run", sa.Column("detail", sa.Text, nullable=True), schema=_real_schema())
    op.create_table('company',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('abbr', sa.String(length=20), nullable=False),
    sa.Column('default_currency', sa.String(length=3), nullable=False),
    sa.Column('country', sa.String(length=140), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_company')),
    **TABLE_OPTIONS,
    )
    op.create_table('supplier',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('supplier_name', sa.String(length=200), nullable=False),
    sa.Column('supplier_group', sa.String(length=140), nullable=False),
    sa.Column('country', sa.String(length=140), nullable=False),
    sa.Column('disabled', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_supplier')),
    **TABLE_OPTIONS,
    )
    op.create_table('item_group',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('item_group_name', sa.String(length=200), nullable=False),
    sa.Column('parent_item_group', sa.String(length=140), nullable=False),
    sa.Column('is_group', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_item_group')),
    **TABLE_OPTIONS,
    )
    op.create_table('warehouse',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('warehouse_name', sa.String(length=200), nullable=False),
    sa.Column('parent_warehouse', sa.String(length=140), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('is_group', sa.SmallInteger(), nullable=False),
    sa.Column('disabled', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_warehouse')),
    **TABLE_OPTIONS,
    )
    op.create_table('account',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('account_name', sa.String(length=200), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('parent_account', sa.String(length=140), nullable=False),
    sa.Column('root_type', sa.String(length=20), nullable=False),
    sa.Column('account_type', sa.String(length=40), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('is_group', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_account')),
    **TABLE_OPTIONS,
    )
    op.create_table('cost_center',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('cost_center_name', sa.String(length=200), nullable=False),
    sa.Column('parent_cost_center', sa.String(length=140), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('is_group', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cost_center')),
    **TABLE_OPTIONS,
    )
    op.create_table('purchase_invoice',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('supplier', sa.String(length=140), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('conversion_rate', sa.Numeric(precision=18, scale=9), nullable=False),
    sa.Column('grand_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('base_grand_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('outstanding_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('is_return', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('docstatus', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_purchase_invoice')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_purchase_invoice_docstatus'), 'purchase_invoice', ['docstatus'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_purchase_invoice_supplier'), 'purchase_invoice', ['supplier'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_purchase_invoice_posting_date'), 'purchase_invoice', ['posting_date'], unique=False, schema=SCHEMA)
    op.create_table('purchase_invoice_item',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('parent', sa.String(length=140), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=140), nullable=False),
    sa.Column('qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('base_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('warehouse', sa.String(length=140), nullable=False),
    sa.Column('cost_center', sa.String(length=140), nullable=False),
    sa.ForeignKeyConstraint(['parent'], [f'{SCHEMA}.purchase_invoice.name'], name=op.f('fk_purchase_invoice_item_parent_purchase_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_purchase_invoice_item')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_purchase_invoice_item_item_code'), 'purchase_invoice_item', ['item_code'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_purchase_invoice_item_parent'), 'purchase_invoice_item', ['parent'], unique=False, schema=SCHEMA)
    op.create_table('sales_order',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('customer', sa.String(length=140), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('transaction_date', sa.Date(), nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('conversion_rate', sa.Numeric(precision=18, scale=9), nullable=False),
    sa.Column('grand_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('base_grand_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('per_delivered', sa.Numeric(precision=9, scale=3), nullable=False),
    sa.Column('per_billed', sa.Numeric(precision=9, scale=3), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('docstatus', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sales_order')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_sales_order_customer'), 'sales_order', ['customer'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_sales_order_docstatus'), 'sales_order', ['docstatus'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_sales_order_transaction_date'), 'sales_order', ['transaction_date'], unique=False, schema=SCHEMA)
    op.create_table('sales_order_item',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('parent', sa.String(length=140), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=140), nullable=False),
    sa.Column('qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('base_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('delivered_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('warehouse', sa.String(length=140), nullable=False),
    sa.ForeignKeyConstraint(['parent'], [f'{SCHEMA}.sales_order.name'], name=op.f('fk_sales_order_item_parent_sales_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sales_order_item')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_sales_order_item_parent'), 'sales_order_item', ['parent'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_sales_order_item_item_code'), 'sales_order_item', ['item_code'], unique=False, schema=SCHEMA)
    op.create_table('purchase_order',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('supplier', sa.String(length=140), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('transaction_date', sa.Date(), nullable=False),
    sa.Column('schedule_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('conversion_rate', sa.Numeric(precision=18, scale=9), nullable=False),
    sa.Column('grand_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('base_grand_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('per_received', sa.Numeric(precision=9, scale=3), nullable=False),
    sa.Column('per_billed', sa.Numeric(precision=9, scale=3), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('docstatus', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_purchase_order')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_purchase_order_supplier'), 'purchase_order', ['supplier'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_purchase_order_docstatus'), 'purchase_order', ['docstatus'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_purchase_order_transaction_date'), 'purchase_order', ['transaction_date'], unique=False, schema=SCHEMA)
    op.create_table('purchase_order_item',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('parent', sa.String(length=140), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=140), nullable=False),
    sa.Column('qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('base_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('received_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('warehouse', sa.String(length=140), nullable=False),
    sa.ForeignKeyConstraint(['parent'], [f'{SCHEMA}.purchase_order.name'], name=op.f('fk_purchase_order_item_parent_purchase_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_purchase_order_item')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_purchase_order_item_parent'), 'purchase_order_item', ['parent'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_purchase_order_item_item_code'), 'purchase_order_item', ['item_code'], unique=False, schema=SCHEMA)
    op.create_table('payment_entry',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('payment_type', sa.String(length=40), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('party_type', sa.String(length=40), nullable=False),
    sa.Column('party', sa.String(length=140), nullable=False),
    sa.Column('paid_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('received_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('base_paid_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('mode_of_payment', sa.String(length=140), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('docstatus', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_payment_entry')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_payment_entry_party'), 'payment_entry', ['party'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_payment_entry_docstatus'), 'payment_entry', ['docstatus'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_payment_entry_posting_date'), 'payment_entry', ['posting_date'], unique=False, schema=SCHEMA)
    op.create_table('gl_entry',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('account', sa.String(length=140), nullable=False),
    sa.Column('party_type', sa.String(length=40), nullable=False),
    sa.Column('party', sa.String(length=140), nullable=False),
    sa.Column('voucher_type', sa.String(length=140), nullable=False),
    sa.Column('voucher_no', sa.String(length=140), nullable=False),
    sa.Column('debit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('credit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('cost_center', sa.String(length=140), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('fiscal_year', sa.String(length=20), nullable=False),
    sa.Column('is_opening', sa.String(length=3), nullable=False),
    sa.Column('is_cancelled', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_gl_entry')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_gl_entry_posting_date'), 'gl_entry', ['posting_date'], unique=False, schema=SCHEMA)
    op.create_index('ix_gl_entry_voucher', 'gl_entry', ['voucher_type', 'voucher_no'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_gl_entry_account'), 'gl_entry', ['account'], unique=False, schema=SCHEMA)
    op.create_table('stock_ledger_entry',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('item_code', sa.String(length=140), nullable=False),
    sa.Column('warehouse', sa.String(length=140), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('posting_time', mysql.TIME(fsp=6), nullable=False),
    sa.Column('actual_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('qty_after_transaction', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('valuation_rate', sa.Numeric(precision=18, scale=9), nullable=False),
    sa.Column('stock_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('stock_value_difference', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('voucher_type', sa.String(length=140), nullable=False),
    sa.Column('voucher_no', sa.String(length=140), nullable=False),
    sa.Column('company', sa.String(length=140), nullable=False),
    sa.Column('is_cancelled', sa.SmallInteger(), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_stock_ledger_entry')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_stock_ledger_entry_item_code'), 'stock_ledger_entry', ['item_code'], unique=False, schema=SCHEMA)
    op.create_index('ix_stock_ledger_entry_voucher', 'stock_ledger_entry', ['voucher_type', 'voucher_no'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_stock_ledger_entry_posting_date'), 'stock_ledger_entry', ['posting_date'], unique=False, schema=SCHEMA)
    op.create_table('stock_level',
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('item_code', sa.String(length=140), nullable=False),
    sa.Column('warehouse', sa.String(length=140), nullable=False),
    sa.Column('actual_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('reserved_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('ordered_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('projected_qty', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('valuation_rate', sa.Numeric(precision=18, scale=9), nullable=False),
    sa.Column('stock_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('modified', MODIFIED, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_stock_level')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_stock_level_item_code'), 'stock_level', ['item_code'], unique=False, schema=SCHEMA)
    op.create_table('cache_entry',
    sa.Column('cache_key', sa.String(length=255), nullable=False),
    sa.Column('tab', sa.String(length=64), nullable=False),
    sa.Column('value', mysql.MEDIUMBLOB(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('cache_key', name=op.f('pk_cache_entry')),
    **TABLE_OPTIONS,
    )
    op.create_index(op.f('ix_tenant_cache_entry_expires_at'), 'cache_entry', ['expires_at'], unique=False, schema=SCHEMA)
    op.create_index(op.f('ix_tenant_cache_entry_tab'), 'cache_entry', ['tab'], unique=False, schema=SCHEMA)


def downgrade():
    for table in reversed(NEW_TABLES):
        op.drop_table(table, schema=SCHEMA)
    op.drop_column("sync_run", "detail", schema=_real_schema())
    op.drop_column("sync_run", "rows_deleted", schema=_real_schema())
