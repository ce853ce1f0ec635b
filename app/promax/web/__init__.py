"""Cross-cutting web concerns: CSRF, security headers, request ids, error views."""

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender

from promax.web.client import client_ip


def add_template_globals(event):
    """Give every template the CSRF token for its forms and the response's CSP nonce."""
    request = event.get("request")
    if request is not None:
        event["csrf_token"] = get_csrf_token(request)
        event["csp_nonce"] = request.csp_nonce


def includeme(config):
    config.include("promax.web.csrf")
    config.include("promax.web.headers")
    config.include("promax.web.cors")
    config.include("promax.web.errors")
    config.add_subscriber(add_template_globals, BeforeRender)
    config.add_request_method(client_ip, "client_ip", reify=True)
