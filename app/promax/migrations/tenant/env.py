"""Alembic environment of one tenant schema; run through promax.migrations.

The migrations name the placeholder schema ``tenant``; the connection's
schema_translate_map sends every statement to the real schema, and the
version table lives inside that schema so each tenant migrates on its own.
"""

from alembic import context

from promax.models.tenant import TENANT_SCHEMA, TenantBase

schema = context.config.attributes["schema"]
connection = context.config.attributes["connection"].execution_options(
    schema_translate_map={TENANT_SCHEMA: schema}
)
context.configure(
    connection=connection,
    target_metadata=TenantBase.metadata,
    version_table_schema=schema,
    include_schemas=True,
)

with context.begin_transaction():
    context.run_migrations()
