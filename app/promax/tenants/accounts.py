"""Per-tenant MariaDB accounts: each tenant schema is reachable through its own account only.

The account of organisation ``<id>`` is ``tenant_<id>``@``<tenant_db_host>``
(39 characters, under MariaDB's 80-character limit for user names) and holds
SELECT, INSERT, UPDATE and DELETE on the schema ``tenant_<id>`` and nothing
else. Schema changes (migrations) run through the admin connection, so a
query injected into a tenant's request can neither read another schema nor
alter its own tables.

Passwords are not stored anywhere: each is derived with HKDF-SHA256 from
PROMAX_TENANT_DB_SECRET (or, when that is unset, from JWT_SECRET under a
label of its own) and the organisation id. Changing the secret therefore
needs ``promax tenant accounts --all`` to set the new passwords.
"""

import logging

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import text

from promax.tenants.schema import schema_name

log = logging.getLogger(__name__)

# MariaDB's limit for the user part of an account name.
MAX_ACCOUNT_NAME_CHARS = 80
PASSWORD_BYTES = 32
# The privileges of a tenant account on its own schema; DDL stays with the admin.
TENANT_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


class AccountError(Exception):
    """Raised when a tenant account cannot be named, created or dropped."""


def account_name(organisation_id):
    """Return the MariaDB user name of an organisation's account, after validating the id."""
    name = schema_name(organisation_id)
    if len(name) > MAX_ACCOUNT_NAME_CHARS:
        raise AccountError(f"account name {name!r} exceeds {MAX_ACCOUNT_NAME_CHARS} characters")
    return name


def password_secret(settings):
    """Return (secret, HKDF label) the tenant passwords of a deployment derive from."""
    if settings.tenant_db_secret:
        return settings.tenant_db_secret.encode("utf-8"), b"promax tenant-db-password v1"
    return settings.jwt_secret, b"promax tenant-db-password from jwt-secret v1"


def derive_password(settings, organisation_id):
    """Return the MariaDB password of an organisation's account (64 hex digits)."""
    secret, label = password_secret(settings)
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=PASSWORD_BYTES,
        salt=None,
        info=label + b":" + account_name(organisation_id).encode("ascii"),
    )
    return hkdf.derive(secret).hex()


def _quoted_schema_pattern(connection, organisation_id):
    # In GRANT, `_` and `%` in a database name are wildcards: escape `_` so
    # that tenant_<id> matches exactly one schema.
    pattern = schema_name(organisation_id).replace("_", "\\_")
    return connection.dialect.identifier_preparer.quote_identifier(pattern)


def ensure_account(connection, settings, organisation_id):
    """Create or update the tenant's account and its grant; return True when it was created.

    ``connection`` must be an admin connection (CREATE USER and GRANT OPTION).
    The user name and host are bound as string literals by the driver; the
    schema pattern is built from the validated id and quoted as an identifier.
    """
    user = account_name(organisation_id)
    host = settings.tenant_db_host
    password = derive_password(settings, organisation_id)
    account = {"user": user, "host": host}
    exists = connection.execute(
        text("SELECT 1 FROM mysql.user WHERE User = :user AND Host = :host"), account
    ).first() is not None
    if exists:
        connection.execute(
            text("ALTER USER :user@:host IDENTIFIED BY :password"), {**account, "password": password}
        )
    else:
        connection.execute(
            text("CREATE USER :user@:host IDENTIFIED BY :password"),
            {**account, "password": password},
        )
    schema = _quoted_schema_pattern(connection, organisation_id)
    connection.execute(text(f"GRANT {TENANT_PRIVILEGES} ON {schema}.* TO :user@:host"), account)
    if not exists:
        log.info("tenant account created", extra={"organisation_id": organisation_id, "account": user})
    return not exists


def drop_account(connection, settings, organisation_id):
    """Drop the tenant's account; return True when it existed."""
    user = account_name(organisation_id)
    account = {"user": user, "host": settings.tenant_db_host}
    exists = connection.execute(
        text("SELECT 1 FROM mysql.user WHERE User = :user AND Host = :host"), account
    ).first() is not None
    if exists:
        connection.execute(text("DROP USER :user@:host"), account)
        log.info("tenant account dropped", extra={"organisation_id": organisation_id, "account": user})
    return exists


def account_grants(connection, settings, organisation_id):
    """Return the GRANT statements MariaDB reports for the tenant's account."""
    account = {"user": account_name(organisation_id), "host": settings.tenant_db_host}
    return [row[0] for row in connection.execute(text("SHOW GRANTS FOR :user@:host"), account)]
