"""Pyramid security policy: identity from the session cookie, permissions by role.

Permission is denied by default. Every view must name a permission from
PERMISSIONS or be public with NO_PERMISSION_REQUIRED. The app's default
permission is DEFAULT_PERMISSION, which no role grants, so a view that names
none is rejected for everyone.

A user's permissions are their role's permissions, plus those of their
department, plus their own grants, minus their own withdrawals. The result is
computed once when the session is loaded and travels with the Identity.
"""

import hashlib
import logging

from pyramid.security import Allowed, Denied

from promax.auth import tokens
from promax.web.cookies import read_cookie

log = logging.getLogger(__name__)

SESSION_COOKIE = "promax_session"

ROLES = ("admin", "manager", "analyst", "viewer")

# The default permission of every view that names none. No role has it.
DEFAULT_PERMISSION = "promax.no-permission-declared"

# Dashboard tabs. Each tab is a permission "tab.<name>"; admins and managers
# see every tab, analysts and viewers only tabs assigned to them or to their
# department.
TABS = {
    "sales-overview": "Sales overview",
}

# Features that an admin may grant or withdraw per user or per department.
FEATURES = {
    "feature.data_view": "Data View",
    "feature.intelligence": "Intelligence Suite",
    "feature.export": "Export",
    "feature.ai_insights": "AI Insights",
}

# Permissions that only a role can give; they cannot be granted per user.
ROLE_ONLY = {
    "signed-in": "Any signed-in user",
    "account.enrol": "Own account security pages, including 2FA enrolment",
    "organisation.security": "Require 2FA and revoke any session of the organisation",
    "organisation.users": "Manage users, roles, permissions and departments",
    "organisation.settings": "Set the organisation's ERP link and test the connection",
}


def tab_permission(tab):
    return f"tab.{tab}"


def export_permission(tab):
    """Return the permission of a tab's export: the tab and the Export feature together."""
    return f"export.{tab}"


ALL_TABS = frozenset(tab_permission(tab) for tab in TABS)
# Permissions an admin can grant or withdraw for one user or department.
GRANTABLE = ALL_TABS | frozenset(FEATURES)
PERMISSIONS = frozenset(ROLE_ONLY) | GRANTABLE

_EVERY_USER = frozenset({"signed-in", "account.enrol"})

# Permissions of each role before per-user and per-department changes.
# Managers see every tab and use every feature. Analysts use the features on
# the tabs assigned to them, and viewers only read assigned tabs.
ROLE_PERMISSIONS = {
    "admin": frozenset(PERMISSIONS),
    "manager": _EVERY_USER | ALL_TABS | frozenset(FEATURES),
    # NOTE: analysts get AI Insights like managers. The policy calls their
    # access "limited", which needs a quota once the AI feature exists.
    "analyst": _EVERY_USER | frozenset(FEATURES),
    "viewer": _EVERY_USER | {"feature.data_view"},
}

# Permissions that a view may declare but no role has directly: each is
# granted when the user has every permission of its set.
COMBINED = {
    export_permission(tab): frozenset({tab_permission(tab), "feature.export"}) for tab in TABS
}

# The only permissions of a session whose user must still enrol in 2FA.
ENROLMENT_PERMISSIONS = frozenset({"account.enrol"})


def effective_permissions(role, department_permissions=(), user_changes=()):
    """Return a user's permissions from the role, department grants and own changes.

    ``user_changes`` contains (permission, allowed) pairs. A withdrawal beats
    every grant, so an admin can take a department's tab away from one member.
    Only GRANTABLE permissions can come from a department or a user.
    """
    permissions = set(ROLE_PERMISSIONS.get(role, ()))
    permissions |= set(department_permissions) & GRANTABLE
    withdrawn = set()
    for permission, allowed in user_changes:
        if permission not in GRANTABLE:
            continue
        if allowed:
            permissions.add(permission)
        else:
            withdrawn.add(permission)
    return frozenset(permissions - withdrawn)


def permission_scope(permissions):
    """Return a short digest of a permission set, for cache keys of data that depends on it."""
    return hashlib.sha256(",".join(sorted(permissions)).encode()).hexdigest()[:16]


def session_claims(request):
    """Return the verified claims of the request's session token, or None.

    The rate limiter and the security policy both need them, so the token
    is decoded once per request.
    """
    token = read_cookie(request, SESSION_COOKIE)
    if not token:
        return None
    settings = request.registry["promax.settings"]
    try:
        return tokens.decode_token(settings.jwt_secrets, token)
    except tokens.InvalidToken as error:
        request.rejected_token_reason = str(error)
        return None


class SessionSecurityPolicy:
    def __init__(self, settings):
        self.settings = settings

    def identity(self, request):
        claims = request.session_claims
        if claims is None:
            return None
        identity = request.registry["session_cache"].load(request, claims)
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
        required = COMBINED.get(permission, {permission})
        if required <= identity.permissions:
            return Allowed(f"user {identity.user_id} has {permission}")
        return Denied(f"user {identity.user_id} (role {identity.role}) lacks {permission}")

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
