"""Tenant schemas: naming from validated ids, creation and migration."""

import pytest
from sqlalchemy import text

from promax.tenants.schema import InvalidTenantId, schema_name


@pytest.mark.claim("C-5.3a")
@pytest.mark.parametrize(
    "value",
    ["", "acme", "0" * 31, "0" * 33, "A" * 32, "0" * 31 + ";", "../" + "0" * 29, None, 42],
)
def test_schema_name_rejects_invalid_ids(value):
    with pytest.raises(InvalidTenantId):
        schema_name(value)


@pytest.mark.claim("C-6.1a")
def test_schema_name_uses_whole_id():
    first = "0123456789abcdef" + "0" * 16
    second = "0123456789abcdef" + "1" * 16

    assert schema_name(first) == "tenant_" + first
    assert schema_name(first) != schema_name(second)


@pytest.mark.claim("C-6.1a")
def test_tenant_create_makes_schema(promax, mariadb):
    promax("db", "upgrade")
    created = promax("tenant", "create", "acme", "--name", "Acme Corp")

    assert created["changed"] is True
    assert created["schema"] == "tenant_" + created["id"]
    with mariadb.root_connection() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (created["schema"],),
        )
        tables = {row[0] for row in cursor.fetchall()}
    assert {"customer", "item", "sales_invoice", "sales_invoice_item", "alembic_version"} <= tables


def test_tenant_create_is_idempotent(promax):
    promax("db", "upgrade")
    first = promax("tenant", "create", "acme")
    second = promax("tenant", "create", "acme")

    assert second["changed"] is False
    assert second["id"] == first["id"]


def test_db_upgrade_is_idempotent(promax):
    assert promax("db", "upgrade")["changed"] is True
    assert promax("db", "upgrade")["changed"] is False


@pytest.mark.claim("C-6.1a")
def test_two_organisations_get_two_schemas(promax):
    promax("db", "upgrade")
    acme = promax("tenant", "create", "acme")
    globex = promax("tenant", "create", "globex")

    assert acme["schema"] != globex["schema"]


@pytest.mark.parametrize("slug", ["Acme", "acme corp", "-acme", "a" * 64, "acme;drop", "tenant_x"])
def test_tenant_create_rejects_bad_slug(promax, slug):
    promax("db", "upgrade")

    assert promax("tenant", "create", slug, expect_status=2) is None


@pytest.mark.claim("C-6.1d")
def test_tenant_connection_routes_to_schema(promax, environ):
    from promax.config import load_settings
    from promax.tenants.engines import TenantEngines
    from promax.tenants.schema import tenant_connection

    promax("db", "upgrade")
    acme = promax("tenant", "create", "acme")
    engines = TenantEngines(load_settings(environ=environ))
    engine = engines.get(acme["id"])

    with tenant_connection(engine, acme["id"]) as connection:
        from sqlalchemy import select

        from promax.models.tenant import Customer

        compiled = str(
            select(Customer.name).compile(
                dialect=connection.dialect,
                schema_translate_map=connection.get_execution_options()["schema_translate_map"],
            )
        )
        count = connection.execute(text("SELECT DATABASE()")).scalar()
        rows = connection.execute(select(Customer.name)).all()

    assert acme["schema"] in compiled or "[SCHEMA_tenant]" in compiled
    assert count == acme["schema"]
    assert rows == []
    engines.dispose()


def test_tenant_migrate_all_reports_each(promax):
    promax("db", "upgrade")
    promax("tenant", "create", "acme")
    promax("tenant", "create", "globex")

    report = promax("tenant", "migrate", "--all")

    assert [t["org"] for t in report["tenants"]] == ["acme", "globex"]
    assert all(t["status"] == "ok" for t in report["tenants"])
    assert report["changed"] is False
