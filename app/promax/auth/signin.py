"""Helpers shared by the sign-in, 2FA and account views."""

import logging

from pyramid.renderers import render_to_response
from pyramid.security import remember

from promax.audit import record_request_event
from promax.auth import sessions, tokens

log = logging.getLogger(__name__)


def open_session(request, user, now=None):
    """Create a session row and return the Set-Cookie headers of its token.

    The token goes only into the HttpOnly cookie, never into a response body.
    """
    settings = request.registry["promax.settings"]
    lifetime = tokens.session_lifetime(settings.session_hours)
    session = sessions.create_session(
        request.dbsession, user, request.client_ip, request.user_agent, lifetime, now=now
    )
    token = tokens.issue_token(
        settings.jwt_secret, user.id, user.organisation_id, session.id, lifetime
    )
    record_request_event(
        request,
        "auth.login_succeeded",
        organisation_id=user.organisation_id,
        user_id=user.id,
        session_id=session.id,
    )
    return session, remember(request, token)


def throttled_response(request, verdict, template, values, event_type, **detail):
    """Record a throttling event and return a 429 page or JSON error with Retry-After."""
    record_request_event(request, event_type, level=logging.WARNING, scope=verdict.scope,
                         retry_after=verdict.retry_after, **detail)
    minutes = max(1, (verdict.retry_after + 59) // 60)
    message = (f"Too many failed attempts. Wait {minutes} minute{'s' if minutes > 1 else ''} "
               "and try again.")
    if template is None:
        response = request.response
        response.content_type = "application/json"
        response.json_body = {"error": {"status": 429, "code": "too_many_attempts",
                                        "message": message}}
    else:
        response = render_to_response(template, {**values, "error": message}, request=request)
    response.status_int = 429
    response.headers["Retry-After"] = str(verdict.retry_after)
    return response
