"""Tenants: one MariaDB schema and one MariaDB account per organisation, named from its validated id."""

from promax.tenants.schema import schema_name, tenant_connection  # noqa: F401


def _tenant_connection(request):
    """Return a connection to the signed-in organisation's schema, as that tenant's account.

    There is no fallback: a request without an organisation gets an error,
    never the tenant-less default handle. The connection belongs to the
    tenant's own MariaDB account, which can reach no other schema.
    """
    identity = request.identity
    if identity is None:
        raise LookupError("no tenant context: the request is not signed in")
    engine = request.registry["tenant.engines"].get(identity.organisation_id)
    context = tenant_connection(engine, identity.organisation_id)
    connection = context.__enter__()
    request.add_finished_callback(lambda _request: context.__exit__(None, None, None))
    return connection


def includeme(config):
    from promax.tenants.engines import TenantEngines

    settings = config.registry["promax.settings"]
    if config.registry.get("tenant.engines") is None:
        config.registry["tenant.engines"] = TenantEngines(settings)
    config.add_request_method(_tenant_connection, "tenant_db", reify=True)
