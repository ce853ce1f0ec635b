"""``/healthz``: a cheap liveness probe of the app, its database and its cache."""

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import text


@view_config(route_name="healthz", renderer="json", permission=NO_PERMISSION_REQUIRED,
             require_csrf=False)
def healthz(request):
    checks = {}
    try:
        with request.registry["db.engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - a probe reports failures, it does not raise them
        checks["database"] = f"failed: {type(error).__name__}"
    cache = request.registry["cache"]
    try:
        cache.client.version()
        checks["memcached"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["memcached"] = f"failed: {type(error).__name__}"

    healthy = all(value == "ok" for value in checks.values())
    request.response.status_int = 200 if healthy else 503
    return {"status": "ok" if healthy else "failed", "checks": checks}


def includeme(config):
    config.add_route("healthz", "/healthz")
    config.scan("promax.health")
