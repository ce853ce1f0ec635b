"""Account pages: security overview, password change, 2FA enrolment and the session list."""

import logging

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from promax.audit import record_request_event
from promax.auth import passwords, sessions, throttle, twofactor
from promax.auth.signin import open_session, throttled_response
from promax.auth.views import enrolment_values, render_codes
from promax.models.control import Organisation, Session, User
from promax.validation import StrictSchema, rules

SECURITY_TEMPLATE = "promax:templates/account_security.jinja2"
PASSWORD_TEMPLATE = "promax:templates/password_change.jinja2"
ENROL_TEMPLATE = "promax:templates/enrol_2fa.jinja2"
SESSIONS_TEMPLATE = "promax:templates/sessions.jinja2"

PASSWORD_CHANGE = throttle.Limit("password", "auth.password_change_failed", per_account=5,
                                 per_ip=30)


class PasswordChangeBody(StrictSchema):
    current_password = rules.string(max_length=1024, required=True)
    new_password = rules.string(max_length=1024, required=True)


class SessionSchema(StrictSchema):
    id = rules.hex_id(required=True)
    device_type = rules.string(required=True)
    browser = rules.string(required=True)
    ip_address = rules.string(required=True)
    created_at = rules.string(required=True)
    last_seen_at = rules.string(required=True)
    current = rules.boolean(required=True)


class SessionListSchema(StrictSchema):
    sessions = rules.list_of(rules.nested(SessionSchema), required=True)


class RevokedSchema(StrictSchema):
    revoked = rules.boolean(required=True)


class RevokedCountSchema(StrictSchema):
    revoked = rules.integer(minimum=0, required=True)


def current_user(request):
    return request.dbsession.get(User, request.identity.user_id)


def session_json(session, current_session_id):
    return {
        "id": session.id,
        "device_type": session.device_type or "unknown",
        "browser": session.browser or "unknown",
        "ip_address": session.ip_address,
        "created_at": session.created_at.isoformat() + "Z",
        "last_seen_at": session.last_seen_at.isoformat() + "Z",
        "current": session.id == current_session_id,
    }


def own_sessions(request):
    return request.dbsession.scalars(
        sessions.live_sessions_query().where(Session.user_id == request.identity.user_id)
    ).all()


# --- overview and enrolment ----------------------------------------------


@view_config(route_name="account_security", request_method="GET", renderer=SECURITY_TEMPLATE,
             permission="account.enrol")
def security_overview(request):
    user = current_user(request)
    organisation = request.dbsession.get(Organisation, user.organisation_id)
    return {
        "two_factor_enabled": user.totp_enabled_at is not None,
        "two_factor_required": organisation.require_2fa,
        "recovery_codes_left": twofactor.remaining_recovery_codes(request.dbsession, user),
        "error": None,
    }


@view_config(route_name="account_2fa_start", request_method="POST", permission="account.enrol")
def enrolment_start(request):
    user = current_user(request)
    if user.totp_enabled_at is not None:
        return HTTPSeeOther(request.route_url("account_security"))
    twofactor.begin_enrolment(request.dbsession, user, request.registry["promax.settings"])
    record_request_event(request, "auth.2fa_enrolment_started")
    return HTTPSeeOther(request.route_url("account_2fa_enrol"))


@view_config(route_name="account_2fa_enrol", request_method="GET", renderer=ENROL_TEMPLATE,
             permission="account.enrol")
def enrolment_form(request):
    user = current_user(request)
    secret = twofactor.pending_secret(user, request.registry["promax.settings"])
    if secret is None:
        return HTTPSeeOther(request.route_url("account_security"))
    request.response.headers["Cache-Control"] = "no-store"
    return {**enrolment_values(user, secret), "action": request.route_url("account_2fa_enrol")}


@view_config(route_name="account_2fa_enrol", request_method="POST", renderer=ENROL_TEMPLATE,
             permission="account.enrol")
def enrolment_confirm(request):
    user = current_user(request)
    settings = request.registry["promax.settings"]
    secret = twofactor.pending_secret(user, settings)
    if secret is None:
        return HTTPSeeOther(request.route_url("account_security"))
    values = {**enrolment_values(user, secret), "action": request.route_url("account_2fa_enrol")}

    verdict = throttle.check(request, throttle.SECOND_FACTOR, user.id, user.id)
    if not verdict.allowed:
        return throttled_response(request, verdict, ENROL_TEMPLATE, values, "auth.2fa_throttled")

    code = twofactor.normalise_code(request.POST.get("code", ""))
    if twofactor.confirm_enrolment(request.dbsession, user, settings, code) != "accepted":
        throttle.record_failure(request, throttle.SECOND_FACTOR, user.id)
        record_request_event(request, "auth.2fa_failed", level=logging.WARNING,
                             method="enrolment")
        request.response.status_int = 401
        return {**values, "error": "The code is incorrect. Check the clock of your device and "
                                   "try the current code."}

    codes = twofactor.replace_recovery_codes(request.dbsession, user, settings)
    record_request_event(request, "auth.2fa_enabled", during="account")
    return render_codes(request, codes)


@view_config(route_name="account_recovery_codes", request_method="POST",
             renderer=SECURITY_TEMPLATE, permission="account.enrol")
def recovery_codes_regenerate(request):
    """Replace the recovery codes after checking a current TOTP code."""
    user = current_user(request)
    settings = request.registry["promax.settings"]
    secret = twofactor.active_secret(user, settings)
    if secret is None:
        return HTTPSeeOther(request.route_url("account_security"))
    values = security_overview(request)

    verdict = throttle.check(request, throttle.SECOND_FACTOR, user.id, user.id)
    if not verdict.allowed:
        return throttled_response(request, verdict, SECURITY_TEMPLATE, values,
                                  "auth.2fa_throttled")
    code = twofactor.normalise_code(request.POST.get("code", ""))
    outcome = twofactor.accept_totp(request.dbsession, user, secret, code)
    if outcome != "accepted":
        throttle.record_failure(request, throttle.SECOND_FACTOR, user.id)
        record_request_event(request, "auth.2fa_failed", level=logging.WARNING,
                             method="recovery_code_regeneration", reason=outcome)
        request.response.status_int = 401
        return {**values, "error": "The code is incorrect or was already used."}

    codes = twofactor.replace_recovery_codes(request.dbsession, user, settings)
    record_request_event(request, "auth.recovery_codes_regenerated")
    return render_codes(request, codes)


# --- password change -------------------------------------------------------


def change_password(request, current_password, new_password):
    """Change the signed-in user's password; return (error message, status) or (None, headers).

    Every session of the user ends, the current one included, and the
    current device gets a fresh session, so only this browser stays signed in.
    """
    user = current_user(request)
    verdict = throttle.check(request, PASSWORD_CHANGE, user.id, user.id)
    if not verdict.allowed:
        return verdict, 429
    if not passwords.verify_password(current_password, user.password_hash):
        throttle.record_failure(request, PASSWORD_CHANGE, user.id)
        record_request_event(request, "auth.password_change_failed", level=logging.WARNING,
                             reason="wrong current password")
        return "The current password is incorrect.", 401
    try:
        new_hash = passwords.hash_password(new_password, user.email)
    except passwords.PasswordPolicyError as error:
        record_request_event(request, "auth.password_change_failed", level=logging.INFO,
                             reason="policy")
        return f"The new password was not accepted: {error}.", 400

    # DATETIME keeps whole seconds, so the new session and the change share one.
    now = sessions.utcnow().replace(microsecond=0)
    user.password_hash = new_hash
    user.password_changed_at = now
    revoked = sessions.revoke_user_sessions(request.dbsession, user.id)
    request.dbsession.flush()
    record_request_event(request, "auth.password_changed", sessions_revoked=revoked)
    _session, headers = open_session(request, user, now=now)
    return None, headers


@view_config(route_name="account_password", request_method="GET", renderer=PASSWORD_TEMPLATE,
             permission="signed-in")
def password_form(request):
    return {"error": None}


@view_config(route_name="account_password", request_method="POST", renderer=PASSWORD_TEMPLATE,
             permission="signed-in")
def password_submit(request):
    if request.POST.get("new_password", "") != request.POST.get("confirm_password", ""):
        request.response.status_int = 400
        return {"error": "The new password and its confirmation differ."}
    error, result = change_password(
        request, request.POST.get("current_password", ""), request.POST.get("new_password", "")
    )
    if error is None:
        return HTTPSeeOther(request.route_url("account_sessions", _query={"changed": "1"}),
                            headers=result)
    if result == 429:
        return throttled_response(request, error, PASSWORD_TEMPLATE, {},
                                  "auth.password_change_throttled")
    request.response.status_int = result
    return {"error": error}


@view_config(route_name="api.account_password", request_method="PUT", renderer="json",
             permission="signed-in", body_schema=PasswordChangeBody)
def password_api(request):
    """Change the signed-in user's password and sign out their other sessions."""
    body = request.validated["body"]
    error, result = change_password(request, body["current_password"], body["new_password"])
    if error is None:
        request.response.headerlist.extend(result)
        return {"changed": True}
    if result == 429:
        return throttled_response(request, error, None, {}, "auth.password_change_throttled")
    request.response.status_int = result
    return {"error": {"status": result, "code": "password_change_failed", "message": error}}


# --- sessions ---------------------------------------------------------------


@view_config(route_name="account_sessions", request_method="GET", renderer=SESSIONS_TEMPLATE,
             permission="signed-in")
def sessions_page(request):
    current = request.identity.session_id
    return {
        "sessions": [session_json(s, current) for s in own_sessions(request)],
        "notice": "Password changed. Your other sessions were signed out."
        if request.GET.get("changed") else None,
    }


@view_config(route_name="api.sessions", request_method="GET", renderer="json",
             permission="signed-in", response_schema=SessionListSchema)
def sessions_api(request):
    """List the signed-in user's live sessions."""
    current = request.identity.session_id
    return {"sessions": [session_json(s, current) for s in own_sessions(request)]}


def revoke_own(request, session_id):
    """Revoke one of the user's own sessions; another user's id is not found (404)."""
    session = request.dbsession.get(Session, session_id)
    if session is None or session.user_id != request.identity.user_id:
        record_request_event(request, "session.revoke_rejected", level=logging.WARNING,
                             target_session_id=session_id[:32], reason="not found")
        raise HTTPNotFound()
    sessions.revoke_session(request.dbsession, session.id)
    record_request_event(request, "session.revoked", target_session_id=session.id)


def revoke_others(request):
    count = sessions.revoke_user_sessions(
        request.dbsession, request.identity.user_id, except_session_id=request.identity.session_id
    )
    record_request_event(request, "session.revoked_others", count=count)
    return count


@view_config(route_name="account_session_revoke", request_method="POST", permission="signed-in")
def session_revoke_form(request):
    revoke_own(request, request.matchdict["session_id"])
    return HTTPSeeOther(request.route_url("account_sessions"))


@view_config(route_name="account_sessions_revoke_others", request_method="POST",
             permission="signed-in")
def sessions_revoke_others_form(request):
    revoke_others(request)
    return HTTPSeeOther(request.route_url("account_sessions"))


@view_config(route_name="api.session", request_method="DELETE", renderer="json",
             permission="signed-in", response_schema=RevokedSchema)
def session_revoke_api(request):
    """Revoke one of the signed-in user's sessions."""
    revoke_own(request, request.matchdict["session_id"])
    return {"revoked": True}


@view_config(route_name="api.sessions_revoke_others", request_method="POST", renderer="json",
             permission="signed-in", response_schema=RevokedCountSchema)
def sessions_revoke_others_api(request):
    """Revoke every session of the signed-in user except the current one."""
    return {"revoked": revoke_others(request)}
