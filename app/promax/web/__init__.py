"""Cross-cutting web concerns: CSRF, security headers, request ids, error views."""

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from sqlalchemy.exc import SQLAlchemyError

from promax.web.client import client_ip


def current_identity(request):
    """Return the request's identity, or None when it cannot be loaded.

    Error pages render the navigation too. When the error is the database
    itself, loading the identity would raise again inside the error view, so
    the page is drawn as for an anonymous user instead.
    """
    try:
        return request.identity
    except SQLAlchemyError:
        return None


def add_template_globals(event):
    """Give every template the CSRF token, the CSP nonce and the signed-in identity."""
    request = event.get("request")
    if request is not None:
        event["csrf_token"] = get_csrf_token(request)
        event["csp_nonce"] = request.csp_nonce
        event["current_identity"] = current_identity(request)


def includeme(config):
    config.include("promax.web.csrf")
    config.include("promax.web.headers")
    config.include("promax.web.cors")
    config.include("promax.web.errors")
    config.add_subscriber(add_template_globals, BeforeRender)
    config.add_request_method(client_ip, "client_ip", reify=True)
