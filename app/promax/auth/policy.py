"""Pyramid security policy: identity from the session cookie, permission by role.

Permission is denied by default: only a permission that the user's role
grants is allowed, and anonymous requests get nothing but the public views.
"""

import logging

from pyramid.security import Allowed, Denied

from promax.auth import sessions, tokens
from promax.web.cookies import read_cookie

log = logging.getLogger(__name__)

SESSION_COOKIE = "promax_session"

ROLES = ("admin", "manager", "analyst", "viewer")

# What each role may do. Later work refines this into per-tab and per-feature
# grants; a permission missing here is denied to everyone.
# "account.enrol" covers the account pages a user needs to enrol in 2FA, and
# "organisation.security" lets admins require 2FA and revoke anyone's session.
ROLE_PERMISSIONS = {
    "admin": frozenset({"signed-in", "dashboard.view", "account.enrol", "organisation.security"}),
    "manager": frozenset({"signed-in", "dashboard.view", "account.enrol"}),
    "analyst": frozenset({"signed-in", "dashboard.view", "account.enrol"}),
    "viewer": frozenset({"signed-in", "dashboard.view", "account.enrol"}),
}

# The only permissions of a session whose user must still enrol in 2FA.
ENROLMENT_PERMISSIONS = frozenset({"account.enrol"})


class SessionSecurityPolicy:
    def __init__(self, settings):
        self.settings = settings

    def identity(self, request):
        token = read_cookie(request, SESSION_COOKIE)
        if not token:
            return None
        try:
            claims = tokens.decode_token(self.settings.jwt_secret, token)
        except tokens.InvalidToken as error:
            request.rejected_token_reason = str(error)
            return None
        identity = sessions.load_identity(request.dbsession, claims)
        if identity is None:
            request.rejected_token_reason = "session is not live"
        return identity

    def authenticated_userid(self, request):
        identity = request.identity
        return identity.user_id if identity else None

    def permits(self, request, context, permission):
        identity = request.identity
        if identity is None:
            return Denied("not signed in")
        if identity.must_enrol_2fa and permission not in ENROLMENT_PERMISSIONS:
            return Denied("the organisation requires 2FA and the user has not enrolled")
        if permission in ROLE_PERMISSIONS.get(identity.role, ()):
            return Allowed(f"role {identity.role} grants {permission}")
        return Denied(f"role {identity.role} does not grant {permission}")

    def remember(self, request, token, **kw):
        max_age = self.settings.session_hours * 3600
        return [("Set-Cookie", session_cookie(token, max_age))]

    def forget(self, request, **kw):
        return [("Set-Cookie", session_cookie("", 0))]


def session_cookie(value, max_age):
    """Build the session cookie: HttpOnly, Secure, SameSite=Lax, whole site."""
    from webob.cookies import make_cookie

    return make_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )
