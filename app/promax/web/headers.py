"""Security headers and request ids on every response the app produces.

The tween sits outside every view and exception view, so errors, redirects
and static files get the same headers as pages. HTML responses get a
Content-Security-Policy whose script nonce is fresh for each response.
"""

import logging
import secrets
import time

from pyramid.response import Response

from promax.logs import current_request_id
from promax.web.client import request_path

log = logging.getLogger("promax.request")

STATIC_HEADERS = (
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def content_security_policy(nonce):
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
    )


def _csp_nonce(request):
    return secrets.token_urlsafe(18)


def _request_id(request):
    """Return the client's X-Request-Id when it is short and printable, else a new id."""
    supplied = request.headers.get("X-Request-Id", "")
    if 0 < len(supplied) <= 64 and supplied.isascii() and supplied.isprintable():
        return supplied
    return secrets.token_hex(8)


def security_headers_tween_factory(handler, registry):
    def security_headers_tween(request):
        request.request_id = _request_id(request)
        token = current_request_id.set(request.request_id)
        try:
            return _handle(request)
        finally:
            current_request_id.reset(token)

    def _handle(request):
        started = time.monotonic()
        try:
            response = handler(request)
        except Exception:  # noqa: BLE001 - last resort; the exception views handle the rest
            # Only an error inside an exception view or a tween outside them
            # gets here. The client still gets a plain 500 with every header.
            log.exception("unhandled error outside the exception views",
                          extra={"path": request_path(request)})
            response = Response(
                "Internal server error. The error has been logged.\n",
                status=500,
                content_type="text/plain",
                charset="utf-8",
            )

        for name, value in STATIC_HEADERS:
            response.headers[name] = value
        response.headers["X-Request-Id"] = request.request_id
        if response.content_type == "text/html":
            response.headers["Content-Security-Policy"] = content_security_policy(
                request.csp_nonce
            )

        status = response.status_int
        if status >= 500:
            level = logging.ERROR
        elif status >= 400:
            level = logging.WARNING
        else:
            level = logging.INFO
        log.log(
            level,
            "request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request_path(request),
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response

    return security_headers_tween


def includeme(config):
    config.add_request_method(_csp_nonce, "csp_nonce", reify=True)
    # Outermost app tween, so it also wraps the exception views' responses.
    config.add_tween("promax.web.headers.security_headers_tween_factory",
                     over="pyramid.tweens.excview_tween_factory")
