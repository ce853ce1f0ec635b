"""Create, migrate and delete organisations' tenant schemas and accounts.

Every function that changes a schema or an account takes the admin engine
(PROMAX_DATABASE_ADMIN_URL); the control-plane account has no privilege on
tenant schemas.
"""

import logging
import re

from sqlalchemy import select, text

from promax import migrations
from promax.models.control import Organisation
from promax.tenants.schema import SCHEMA_PREFIX, schema_name

log = logging.getLogger(__name__)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class InvalidSlug(ValueError):
    """Raised when an organisation slug is not lowercase letters, digits and dashes."""


def validate_slug(slug):
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise InvalidSlug(
            f"invalid organisation slug {slug!r}: use 1 to 63 lowercase letters, digits "
            "and dashes, starting with a letter or digit"
        )
    return slug


def find_organisation(session, slug):
    """Return the organisation with this slug, or None."""
    validate_slug(slug)
    return session.scalars(select(Organisation).where(Organisation.slug == slug)).one_or_none()


def get_or_create_organisation(session, slug, name=None):
    """Return (organisation, created) for the slug, creating the row if needed."""
    organisation = find_organisation(session, slug)
    if organisation is not None:
        return organisation, False
    organisation = Organisation(slug=slug, name=name or slug)
    session.add(organisation)
    session.flush()
    log.info("organisation created", extra={"organisation_id": organisation.id, "slug": slug})
    return organisation, True


def schema_exists(connection, organisation_id):
    found = connection.execute(
        text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
        {"name": schema_name(organisation_id)},
    ).first()
    return found is not None


def create_schema(engine, organisation_id):
    """Create the organisation's schema if missing; return True when it was created.

    DDL cannot take a bound parameter for a schema name, so the name is built
    only from the validated id and quoted by the dialect's identifier preparer.
    """
    name = schema_name(organisation_id)
    with engine.begin() as connection:
        if schema_exists(connection, organisation_id):
            return False
        quoted = connection.dialect.identifier_preparer.quote_identifier(name)
        connection.execute(
            text(f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    log.info("tenant schema created", extra={"organisation_id": organisation_id, "schema": name})
    return True


def migrate_schema(engine, organisation_id):
    """Upgrade the organisation's schema to the newest revision; return (before, after)."""
    name = schema_name(organisation_id)
    with engine.begin() as connection:
        before, after = migrations.upgrade("tenant", connection, schema=name)
    if before != after:
        log.info(
            "tenant schema migrated",
            extra={"organisation_id": organisation_id, "from": before, "to": after},
        )
    return before, after


def ensure_account(engine, settings, organisation_id):
    """Create or refresh the organisation's MariaDB account; return True when it was created."""
    from promax.tenants import accounts

    with engine.begin() as connection:
        return accounts.ensure_account(connection, settings, organisation_id)


def table_names(connection, organisation_id):
    """Return the names of the tables in an organisation's schema."""
    rows = connection.execute(
        text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
            "ORDER BY table_name"
        ),
        {"schema": schema_name(organisation_id)},
    )
    return [row[0] for row in rows]


def drop_schema(engine, settings, organisation_id):
    """Drop an organisation's schema and account; return (schema dropped, account dropped)."""
    from promax.tenants import accounts

    name = schema_name(organisation_id)
    with engine.begin() as connection:
        existed = schema_exists(connection, organisation_id)
        if existed:
            quoted = connection.dialect.identifier_preparer.quote_identifier(name)
            connection.execute(text(f"DROP DATABASE {quoted}"))
        account_existed = accounts.drop_account(connection, settings, organisation_id)
    log.info(
        "tenant schema dropped",
        extra={"organisation_id": organisation_id, "schema": name, "existed": existed},
    )
    return existed, account_existed


def list_tenant_schemas(connection):
    """Return the names of every tenant schema on the server."""
    rows = connection.execute(
        text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :pattern"),
        {"pattern": SCHEMA_PREFIX.replace("_", "\\_") + "%"},
    )
    return sorted(row[0] for row in rows)
