"""Error views: JSON for the API, a plain page for browsers, never a traceback."""

import logging

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import InterfaceError, OperationalError

from promax.audit import record_request_event
from promax.validation import RequestRejected, ValidationFailed
from promax.web.client import request_path
from promax.web.cookies import read_cookie

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request was not understood.",
    401: "Sign in to continue.",
    403: "You do not have access to this page.",
    404: "The page was not found.",
    405: "This method is not allowed here.",
    411: "The request needs a Content-Length header.",
    413: "The request body is too large.",
    415: "The request body has an unsupported content type.",
    422: "The request contains invalid values.",
    429: "Too many requests. Wait and try again.",
    500: "Something went wrong on our side. The error has been logged.",
    503: "The service is temporarily unavailable. Try again in a minute.",
}


def wants_json(request):
    return request_path(request).startswith("/api/") or request.accept.best_match(
        ["text/html", "application/json"]
    ) == "application/json"


def error_response(request, status, message=None, code=None, fields=None):
    """Return a JSON error for the API, or the error page for browsers."""
    message = message or MESSAGES.get(status, "The request failed.")
    if wants_json(request):
        response = request.response
        response.status_int = status
        response.content_type = "application/json"
        error = {"status": status, "code": code or str(status), "message": message}
        if fields is not None:
            error["fields"] = fields
        response.json_body = {"error": error, "request_id": getattr(request, "request_id", None)}
        return response
    response = render_to_response(
        "promax:templates/error.jinja2",
        {"status": status, "message": message, "request_id": getattr(request, "request_id", None)},
        request=request,
    )
    response.status_int = status
    return response


@forbidden_view_config()
def forbidden(exc, request):
    if request.identity is None:
        if read_cookie(request, "promax_session"):
            record_request_event(
                request,
                "auth.token_rejected",
                level=logging.WARNING,
                reason=getattr(request, "rejected_token_reason", "unknown"),
                path=request_path(request),
            )
        if not wants_json(request) and request.method == "GET":
            return HTTPSeeOther(request.route_url("login"))
        return error_response(request, 401, code="not_authenticated")
    return error_response(request, 403, code="forbidden")


@exception_view_config(BadCSRFToken)
@exception_view_config(BadCSRFOrigin)
def csrf_failed(exc, request):
    record_request_event(request, "security.csrf_rejected", level=logging.WARNING,
                         path=request_path(request), method=request.method)
    return error_response(request, 403, "The form expired or the CSRF token is missing. "
                          "Reload the page and try again.", code="csrf_failed")


@notfound_view_config()
def not_found(exc, request):
    # A route that matched without a view for the method is a 405, not a 404.
    route = request.matched_route
    if route is not None:
        allowed = allowed_methods(request.registry, route.name)
        if allowed and request.method not in allowed:
            response = error_response(request, 405, code="method_not_allowed")
            response.headers["Allow"] = ", ".join(sorted(allowed))
            return response
    return error_response(request, 404, code="not_found")


def allowed_methods(registry, route_name):
    """Return the HTTP methods that some view of a route accepts."""
    cache = registry.setdefault("promax.allowed_methods", {})
    if route_name not in cache:
        methods = set()
        for view in registry.introspector.get_category("views") or ():
            intr = view["introspectable"]
            if intr["route_name"] != route_name:
                continue
            declared = intr["request_methods"]
            if declared is None:
                methods |= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
            else:
                methods |= set((declared,) if isinstance(declared, str) else declared)
        if "GET" in methods:
            methods.add("HEAD")
        cache[route_name] = frozenset(methods)
    return cache[route_name]


@exception_view_config(ValidationFailed)
def validation_failed(exc, request):
    log.warning("request validation failed",
                extra={"path": request_path(request), "location": exc.location,
                       "fields": sorted(exc.fields)})
    return error_response(request, 422, f"The request {exc.location} contains invalid values.",
                          code="validation_failed", fields=exc.fields)


@exception_view_config(RequestRejected)
def request_rejected(exc, request):
    return error_response(request, exc.status, exc.message, code=exc.code)


@exception_view_config(HTTPException)
def http_error(exc, request):
    if exc.status_int < 400:
        return exc
    # Messages the app put into an exception are meant for the client.
    message = exc.detail if isinstance(exc.detail, str) else None
    return error_response(request, exc.status_int, message,
                          code=exc.title.lower().replace(" ", "_"))


@exception_view_config(UnicodeDecodeError)
def undecodable_request(exc, request):
    # WebOb raises this while decoding a form, query string or cookie that
    # is not UTF-8: the client sent bad input, so it gets a 400, not a 500.
    log.warning("request is not valid UTF-8", extra={"path": request_path(request)})
    return error_response(request, 400, "The request contains text that is not valid UTF-8.",
                          code="invalid_encoding")


@exception_view_config(DeprecationWarning)
def non_utf8_charset(exc, request):
    # WebOb raises DeprecationWarning (not a warning, an exception) when a
    # form declares a charset other than UTF-8, the only one ProMax reads.
    log.warning("request charset is not UTF-8", extra={"path": request_path(request)})
    return error_response(request, 415, "Send the request body encoded as UTF-8.",
                          code="unsupported_charset")


@exception_view_config(OperationalError)
@exception_view_config(InterfaceError)
def database_unavailable(exc, request):
    # The connection to MariaDB failed or was lost: a service outage, not a
    # bug, so the client gets 503 with a hint to retry and the log an error.
    log.error("database unavailable", extra={"path": request_path(request),
                                             "error": type(exc.orig).__name__ if
                                             getattr(exc, "orig", None) else type(exc).__name__})
    response = error_response(request, 503, code="service_unavailable")
    response.headers["Retry-After"] = "30"
    return response


@exception_view_config(Exception)
def server_error(exc, request):
    log.error("unhandled error", exc_info=exc,
              extra={"request_id": getattr(request, "request_id", None),
                     "path": request_path(request)})
    return error_response(request, 500, code="internal_error")


def includeme(config):
    config.scan("promax.web.errors")
