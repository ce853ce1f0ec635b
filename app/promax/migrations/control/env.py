"""Alembic environment of the control-plane database; run through promax.migrations."""

from alembic import context

from promax.models.control import ControlBase

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=ControlBase.metadata)

with context.begin_transaction():
    context.run_migrations()
