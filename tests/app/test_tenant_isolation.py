"""Isolation in depth: 24 tables per tenant, one MariaDB account per tenant schema,
and backup, restore and delete of one tenant without touching another."""

import pymysql
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.servers import APP_PASSWORD, APP_USER

from promax.config import load_settings
from promax.models.tenant import TENANT_TABLE_COUNT
from promax.tenants.accounts import account_name, derive_password
from promax.tenants.backup import table_checksums


@pytest.fixture
def two_tenants(promax):
    promax("db", "upgrade")
    return promax("tenant", "create", "acme"), promax("tenant", "create", "globex")


def tenant_login(mariadb, settings, organisation_id, database=None):
    return pymysql.connect(
        unix_socket=str(mariadb.socket), user=account_name(organisation_id),
        password=derive_password(settings, organisation_id), database=database, autocommit=True,
    )


def table_count(mariadb, schema):
    with mariadb.root_connection() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        )
        return cursor.fetchone()[0]


@pytest.mark.claim("C-6.1a")
def test_tenant_schema_has_24_tables(two_tenants, mariadb):
    acme, _ = two_tenants

    assert TENANT_TABLE_COUNT == 24
    assert table_count(mariadb, acme["schema"]) == 24


@pytest.mark.claim("C-6.1b")
def test_tenant_account_reaches_own_schema_only(two_tenants, mariadb, environ):
    acme, globex = two_tenants
    settings = load_settings(environ=environ)

    with tenant_login(mariadb, settings, acme["id"], acme["schema"]) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM customer")
            assert cursor.fetchone() == (0,)
            with pytest.raises(pymysql.err.OperationalError) as denied:
                cursor.execute(f"SELECT COUNT(*) FROM `{globex['schema']}`.customer")
            assert denied.value.args[0] == 1142
            with pytest.raises(pymysql.err.OperationalError):
                cursor.execute("DROP TABLE customer")
            cursor.execute("SHOW DATABASES")
            visible = {row[0] for row in cursor.fetchall()}
    assert globex["schema"] not in visible
    with pytest.raises(pymysql.err.OperationalError):
        tenant_login(mariadb, settings, acme["id"], globex["schema"])


@pytest.mark.claim("C-6.1b")
def test_control_account_cannot_read_tenant(two_tenants, mariadb):
    acme, _ = two_tenants

    with pymysql.connect(unix_socket=str(mariadb.socket), user=APP_USER,
                         password=APP_PASSWORD) as connection, connection.cursor() as cursor:
        with pytest.raises(pymysql.err.OperationalError) as denied:
            cursor.execute(f"SELECT COUNT(*) FROM `{acme['schema']}`.customer")
    assert denied.value.args[0] == 1142


@pytest.mark.claim("C-6.1b", "C-5.3a")
def test_grant_escapes_underscore_wildcard(two_tenants, mariadb, environ):
    from promax.tenants.accounts import account_grants

    acme, _ = two_tenants
    settings = load_settings(environ=environ)
    engine = create_engine(environ["PROMAX_DATABASE_ADMIN_URL"])
    with engine.connect() as connection:
        grants = account_grants(connection, settings, acme["id"])
    engine.dispose()

    schema_grants = [grant for grant in grants if " ON `" in grant]
    assert schema_grants == [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `tenant\\_{acme['id']}`.* TO "
        f"`{account_name(acme['id'])}`@`localhost`"
    ]
    assert len(account_name(acme["id"])) <= 80


@pytest.mark.claim("C-6.1a", "C-6.1b")
def test_shared_prefix_ids_get_separate_schemas_and_accounts(promax, mariadb, environ):
    from promax.tenants import lifecycle

    promax("db", "upgrade")
    first = "0123456789abcdef" + "0" * 16
    second = "0123456789abcdef" + "1" * 16
    settings = load_settings(environ=environ)
    engine = create_engine(environ["PROMAX_DATABASE_ADMIN_URL"])
    try:
        for organisation_id in (first, second):
            lifecycle.create_schema(engine, organisation_id)
            lifecycle.ensure_account(engine, settings, organisation_id)
            lifecycle.migrate_schema(engine, organisation_id)

        assert account_name(first) != account_name(second)
        assert derive_password(settings, first) != derive_password(settings, second)
        with tenant_login(mariadb, settings, first, "tenant_" + first) as connection:
            with connection.cursor() as cursor, pytest.raises(pymysql.err.OperationalError):
                cursor.execute(f"SELECT COUNT(*) FROM `tenant_{second}`.customer")
    finally:
        for organisation_id in (first, second):
            lifecycle.drop_schema(engine, settings, organisation_id)
        engine.dispose()


@pytest.mark.claim("C-6.1b")
def test_other_org_session_ids_404(browser, promax, admin):
    """A user of one organisation gets 404 for every session id of another, on each id route."""
    from conftest import ADMIN_PASSWORD, sign_in
    import webtest

    promax("tenant", "create", "globex")
    promax("user", "create", "--org", "globex", "--email", "admin@globex.example", "--role",
           "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    other = webtest.TestApp(browser.app, extra_environ=browser.extra_environ)
    sign_in(other, "admin@globex.example", ADMIN_PASSWORD)
    globex_sessions = other.get("/api/v1/sessions").json
    session_ids = [entry["id"] for entry in globex_sessions.get("sessions", globex_sessions)]
    assert session_ids

    sign_in(browser, admin["email"], admin["password"])
    token = browser.cookies.get("promax_csrf") or browser.cookies.get("csrf_token")
    headers = {"X-CSRF-Token": token} if token else {}
    for session_id in session_ids:
        browser.delete(f"/api/v1/sessions/{session_id}", headers=headers, status=404)
        browser.delete(f"/api/v1/admin/sessions/{session_id}", headers=headers, status=404)
    assert other.get("/api/v1/sessions").status_int == 200


@pytest.mark.claim("C-6.1c")
def test_backup_restore_round_trip(promax, acme, simulator, environ, tmp_path):
    from support.erpsim import API_KEY, API_SECRET

    promax("erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY,
           "--api-secret-stdin", stdin=API_SECRET + "\n")
    promax("sync", "acme")
    engine = create_engine(environ["PROMAX_DATABASE_ADMIN_URL"])
    before = table_checksums(engine, acme["id"])
    path = tmp_path / "acme.promax-backup.gz"

    backup = promax("tenant", "backup", "acme", "--output", str(path))
    with engine.begin() as connection:
        connection.execute(text(f"DELETE FROM `{acme['schema']}`.sales_invoice"))
        connection.execute(text(f"DELETE FROM `{acme['schema']}`.gl_entry"))
    assert table_checksums(engine, acme["id"]) != before
    restored = promax("tenant", "restore", "acme", str(path))
    after = table_checksums(engine, acme["id"])
    engine.dispose()

    assert backup["rows"] == restored["rows"] > 3000
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(before) == 24
    assert after == before


@pytest.mark.claim("C-6.1c")
def test_restore_rejects_other_org_backup(promax, two_tenants, tmp_path):
    path = tmp_path / "acme.promax-backup.gz"
    promax("tenant", "backup", "acme", "--output", str(path))

    promax("tenant", "restore", "globex", str(path), expect_status=1)


@pytest.mark.claim("C-6.1c")
def test_delete_removes_only_that_tenant(promax, two_tenants, mariadb, environ):
    acme, globex = two_tenants
    settings = load_settings(environ=environ)
    engine = create_engine(environ["PROMAX_DATABASE_ADMIN_URL"])
    before = table_checksums(engine, globex["id"])

    promax("tenant", "delete", "acme", expect_status=2)
    result = promax("tenant", "delete", "acme", "--confirm", "acme")

    assert result["schema_dropped"] is True
    assert result["account_dropped"] is True
    assert table_count(mariadb, acme["schema"]) == 0
    with pytest.raises(pymysql.err.OperationalError):
        tenant_login(mariadb, settings, acme["id"])
    assert table_checksums(engine, globex["id"]) == before
    with tenant_login(mariadb, settings, globex["id"], globex["schema"]) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM customer")
            assert cursor.fetchone() == (0,)
    engine.dispose()


def test_migrate_all_reports_each_tenant(promax, two_tenants):
    report = promax("tenant", "migrate", "--all")

    assert [(t["org"], t["status"], t["to"]) for t in report["tenants"]] == [
        ("acme", "ok", "t0002"), ("globex", "ok", "t0002")
    ]
    assert report["changed"] is False


@pytest.mark.claim("C-6.2b")
def test_cache_purge_removes_expired_rows(promax, two_tenants, environ):
    from promax.cache import Tier2Cache
    from promax.tenants.engines import TenantEngines

    acme, _ = two_tenants
    settings = load_settings(environ=environ)
    engines = TenantEngines(settings)
    tier2 = Tier2Cache(engines, settings.cache_retention_hours)
    tier2.set(acme["id"], "sales-overview:a:1", "sales-overview", {"x": 1})
    tier2.set(acme["id"], "sales-overview:a:2", "sales-overview", {"x": 2})
    admin = create_engine(environ["PROMAX_DATABASE_ADMIN_URL"])
    with admin.begin() as connection:
        connection.execute(text(
            f"UPDATE `{acme['schema']}`.cache_entry SET expires_at = NOW() - INTERVAL 1 HOUR "
            "WHERE cache_key = 'sales-overview:a:1'"
        ))
    admin.dispose()

    result = promax("cache", "purge", "--all")

    assert result["tenants"][0] == {"org": "acme", "removed": 1}
    assert tier2.get(acme["id"], "sales-overview:a:2") == {"x": 2}
    assert tier2.get(acme["id"], "sales-overview:a:1") is None
    engines.dispose()
