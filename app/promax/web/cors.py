"""CORS: only origins listed in PROMAX_CORS_ORIGINS may read responses cross-origin.

An allowed origin gets ``Access-Control-Allow-Origin`` with its own value
and ``Access-Control-Allow-Credentials: true``; every other origin gets no
CORS header at all, so browsers keep the response from its page. A preflight
from a rejected origin gets 403. Requests from the app's own origin are not
cross-origin and pass untouched. Rejected origins are logged at warning level.
The tween runs inside the rate limiter, so preflights count against the
limits and a flood of rejected origins cannot flood the log.
"""

import logging

from pyramid.response import Response

from promax.web.client import request_path

log = logging.getLogger(__name__)

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = "Content-Type, X-CSRF-Token, X-Request-Id"
PREFLIGHT_MAX_AGE = "600"


def cors_tween_factory(handler, registry):
    settings = registry["promax.settings"]
    allowed = frozenset(settings.cors_origins)
    allow_any = "*" in allowed  # development only: load_settings rejects it in production

    def cors_tween(request):
        origin = request.headers.get("Origin")
        if not origin or origin == request.host_url:
            return handler(request)

        is_allowed = allow_any or origin in allowed
        preflight = (request.method == "OPTIONS"
                     and "Access-Control-Request-Method" in request.headers)
        if not is_allowed:
            log.warning("cross-origin request rejected",
                        extra={"origin": origin[:200], "path": request_path(request),
                               "method": request.method})
            if preflight:
                return Response(status=403, content_type="text/plain",
                                body=b"Origin not allowed.\n")
            return handler(request)

        response = Response(status=204) if preflight else handler(request)
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.vary = tuple(set(response.vary or ()) | {"Origin"})
        if preflight:
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response

    return cors_tween


def includeme(config):
    config.add_tween(
        "promax.web.cors.cors_tween_factory",
        under="promax.web.headers.security_headers_tween_factory",
        over="pyramid.tweens.excview_tween_factory",
    )
