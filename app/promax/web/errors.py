"""Error views: JSON for the API, a plain page for browsers, never a traceback."""

import logging

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from promax.audit import record_request_event
from promax.web.cookies import read_cookie

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request was not understood.",
    401: "Sign in to continue.",
    403: "You do not have access to this page.",
    404: "The page was not found.",
    405: "This method is not allowed here.",
    500: "Something went wrong on our side. The error has been logged.",
}


def wants_json(request):
    return request.path.startswith("/api/") or request.accept.best_match(
        ["text/html", "application/json"]
    ) == "application/json"


def error_response(request, status, message=None, code=None):
    message = message or MESSAGES.get(status, "The request failed.")
    if wants_json(request):
        response = request.response
        response.status_int = status
        response.content_type = "application/json"
        response.json_body = {
            "error": {"status": status, "code": code or str(status), "message": message},
            "request_id": getattr(request, "request_id", None),
        }
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
                path=request.path,
            )
        if not wants_json(request) and request.method == "GET":
            return HTTPSeeOther(request.route_url("login"))
        return error_response(request, 401, code="not_authenticated")
    return error_response(request, 403, code="forbidden")


@exception_view_config(BadCSRFToken)
@exception_view_config(BadCSRFOrigin)
def csrf_failed(exc, request):
    record_request_event(request, "security.csrf_rejected", level=logging.WARNING,
                         path=request.path, method=request.method)
    return error_response(request, 403, "The form expired or the CSRF token is missing. "
                          "Reload the page and try again.", code="csrf_failed")


@notfound_view_config()
def not_found(exc, request):
    return error_response(request, 404, code="not_found")


@exception_view_config(HTTPException)
def http_error(exc, request):
    if exc.status_int < 400:
        return exc
    return error_response(request, exc.status_int, code=exc.title.lower().replace(" ", "_"))


@exception_view_config(UnicodeDecodeError)
def undecodable_request(exc, request):
    # WebOb raises this while decoding a form, query string or cookie that
    # is not UTF-8: the client sent bad input, so it gets a 400, not a 500.
    log.warning("request is not valid UTF-8", extra={"path": request.path_info})
    return error_response(request, 400, "The request contains text that is not valid UTF-8.",
                          code="invalid_encoding")


@exception_view_config(Exception)
def server_error(exc, request):
    log.error("unhandled error", exc_info=exc,
              extra={"request_id": getattr(request, "request_id", None), "path": request.path})
    return error_response(request, 500, code="internal_error")


def includeme(config):
    config.scan("promax.web.errors")
