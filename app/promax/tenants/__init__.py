"""Tenants: one MariaDB schema per organisation, named from its validated id."""

from promax.tenants.schema import schema_name, tenant_connection  # noqa: F401


def _tenant_connection(request):
    """Return a connection routed to the signed-in organisation's schema.

    There is no fallback: a request without an organisation gets an error,
    never the tenant-less default handle.
    """
    identity = request.identity
    if identity is None:
        raise LookupError("no tenant context: the request is not signed in")
    context = tenant_connection(request.registry["db.engine"], identity.organisation_id)
    connection = context.__enter__()
    request.add_finished_callback(lambda _request: context.__exit__(None, None, None))
    return connection


def includeme(config):
    config.add_request_method(_tenant_connection, "tenant_db", reify=True)
