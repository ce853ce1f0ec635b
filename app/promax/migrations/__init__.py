"""Alembic environments: ``control`` for the promax database, ``tenant`` for each tenant schema."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

CONTROL_VERSION_TABLE = "alembic_version"


def _config(environment, connection, schema=None):
    config = Config()
    config.set_main_option("script_location", f"promax:migrations/{environment}")
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


def _current_revision(connection, schema=None):
    context = MigrationContext.configure(
        connection, opts={"version_table_schema": schema} if schema else {}
    )
    return context.get_current_revision()


def head_revision(environment):
    return ScriptDirectory.from_config(_config(environment, None)).get_current_head()


def upgrade(environment, connection, schema=None):
    """Upgrade one database to the newest revision; return (before, after) revisions."""
    before = _current_revision(connection, schema)
    command.upgrade(_config(environment, connection, schema), "head")
    after = _current_revision(connection, schema)
    return before, after
