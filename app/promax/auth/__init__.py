"""Authentication: the session cookie, the security policy, sign-in, 2FA and sessions."""

from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPSeeOther

from promax.auth.policy import SESSION_COOKIE, SessionSecurityPolicy, session_claims
from promax.web.client import request_path
from promax.web.cookies import read_cookie

SESSION_ID = "{session_id:[0-9a-f]{32}}"
# Pages a user who must enrol in 2FA may still open with a GET.
ENROLMENT_PATHS = ("/account/security", "/account/2fa/", "/login", "/static/")


def lead_to_enrolment(event):
    """Send a browser whose user must enrol in 2FA to the enrolment page.

    The security policy denies such a session every other permission, so
    this only turns a 403 page into a redirect for page loads.
    """
    request = event.request
    if request.method != "GET" or request_path(request).startswith(("/api/",) + ENROLMENT_PATHS):
        return
    if not read_cookie(request, SESSION_COOKIE):
        return
    identity = request.identity
    if identity is not None and identity.must_enrol_2fa:
        raise HTTPSeeOther(request.route_url("account_security"))


def includeme(config):
    settings = config.registry["promax.settings"]
    config.set_security_policy(SessionSecurityPolicy(settings))
    config.add_request_method(session_claims, "session_claims", reify=True)
    config.include("promax.web.memcached")
    config.include("promax.auth.session_cache")

    config.add_route("login", "/login")
    config.add_route("login_2fa", "/login/2fa")
    config.add_route("login_2fa_enrol", "/login/2fa/enrol")
    config.add_route("logout", "/logout")

    config.add_route("account_security", "/account/security")
    config.add_route("account_2fa_start", "/account/2fa/start")
    config.add_route("account_2fa_enrol", "/account/2fa/enrol")
    config.add_route("account_recovery_codes", "/account/2fa/recovery-codes")
    config.add_route("account_password", "/account/password")
    config.add_route("account_sessions", "/account/sessions")
    config.add_route("account_sessions_revoke_others", "/account/sessions/revoke-others")
    config.add_route("account_session_revoke", f"/account/sessions/{SESSION_ID}/revoke")
    config.add_route("api.account_password", "/api/v1/account/password")
    config.add_route("api.sessions", "/api/v1/sessions")
    config.add_route("api.sessions_revoke_others", "/api/v1/sessions/revoke-others")
    config.add_route("api.session", f"/api/v1/sessions/{SESSION_ID}")

    config.add_route("admin_security", "/admin/security")
    config.add_route("admin_require_2fa", "/admin/security/require-2fa")
    config.add_route("admin_session_revoke", f"/admin/sessions/{SESSION_ID}/revoke")
    config.add_route("api.admin_sessions", "/api/v1/admin/sessions")
    config.add_route("api.admin_session", f"/api/v1/admin/sessions/{SESSION_ID}")
    config.add_route("api.admin_organisation", "/api/v1/admin/organisation")

    config.add_subscriber(lead_to_enrolment, ContextFound)
    config.scan("promax.auth.views")
    config.scan("promax.auth.account_views")
    config.scan("promax.auth.admin_views")
