"""Sign-in in one or two steps, and sign-out.

After a correct password, a user with 2FA (or whose organisation requires it)
gets a pending challenge instead of a session; see promax.auth.challenges.
"""

import logging

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED, forget
from pyramid.view import view_config
from sqlalchemy import func, select

from promax.audit import record_request_event
from promax.auth import challenges, passwords, sessions, throttle, twofactor
from promax.auth.emails import normalise_email
from promax.auth.signin import open_session, throttled_response
from promax.models.control import Organisation, User

MAX_EMAIL_LENGTH = 254
LOGIN_TEMPLATE = "promax:templates/login.jinja2"
VERIFY_TEMPLATE = "promax:templates/login_2fa.jinja2"
ENROL_TEMPLATE = "promax:templates/enrol_2fa.jinja2"
CODES_TEMPLATE = "promax:templates/recovery_codes.jinja2"


@view_config(route_name="login", request_method="GET", renderer=LOGIN_TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)
def login_form(request):
    if request.identity is not None:
        return HTTPSeeOther(request.route_url("dashboard"))
    notice = "Your sign-in step expired. Sign in again." if request.GET.get("expired") else None
    return {"email": "", "error": notice}


@view_config(route_name="login", request_method="POST", renderer=LOGIN_TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)
def login_submit(request):
    email = normalise_email(request.POST.get("email", ""))[:MAX_EMAIL_LENGTH]
    password = request.POST.get("password", "")

    user = None
    if email and password:
        user = request.dbsession.scalars(
            select(User).where(func.lower(User.email) == email, User.is_active.is_(True))
        ).one_or_none()

    verdict = throttle.check(request, throttle.LOGIN, email, user.id if user else None)
    if not verdict.allowed:
        return throttled_response(
            request, verdict, LOGIN_TEMPLATE, {"email": email}, "auth.login_throttled",
            organisation_id=user.organisation_id if user else None,
            user_id=user.id if user else None, email=email,
        )

    # Verify against a dummy hash when the user is unknown, so the response
    # time does not tell which emails have accounts.
    password_ok = passwords.verify_password(
        password, user.password_hash if user else passwords.DUMMY_HASH
    )

    if user is None or not password_ok:
        throttle.record_failure(request, throttle.LOGIN, email)
        record_request_event(
            request,
            "auth.login_failed",
            level=logging.WARNING,
            organisation_id=user.organisation_id if user else None,
            user_id=user.id if user else None,
            email=email,
        )
        request.response.status_int = 401
        return {"email": email, "error": "The email or password is incorrect."}

    throttle.clear_account(request, throttle.LOGIN, email)
    organisation = request.dbsession.get(Organisation, user.organisation_id)
    if user.totp_enabled_at is not None:
        return _start_second_step(request, user, challenges.VERIFY, "login_2fa")
    if organisation.require_2fa:
        settings = request.registry["promax.settings"]
        twofactor.begin_enrolment(request.dbsession, user, settings)
        return _start_second_step(request, user, challenges.ENROL, "login_2fa_enrol")

    _session, headers = open_session(request, user)
    return HTTPSeeOther(request.route_url("dashboard"), headers=headers)


def _start_second_step(request, user, purpose, route):
    cookie = challenges.start_challenge(request.dbsession, user, purpose)
    record_request_event(request, "auth.2fa_challenge_started", organisation_id=user.organisation_id,
                         user_id=user.id, purpose=purpose)
    return HTTPSeeOther(request.route_url(route), headers=[("Set-Cookie", cookie)])


def _restart(request):
    """Redirect to the password step and drop the pending cookie."""
    return HTTPSeeOther(
        request.route_url("login", _query={"expired": "1"}),
        headers=[("Set-Cookie", challenges.clear_cookie())],
    )


def _challenge_or_restart(request, purpose):
    """Return (challenge, user, None), or (None, None, redirect) when there is no challenge."""
    challenge, user = challenges.load_challenge(request, purpose)
    if challenge is None:
        return None, None, _restart(request)
    return challenge, user, None


def _reject_code(request, challenge, user, template, values, event_type, message, **detail):
    throttle.record_failure(request, throttle.SECOND_FACTOR, user.id)
    challenges.count_failure(request, challenge)
    # Every rejected code is also recorded as auth.2fa_failed, which the
    # audit-log fallback of the throttle counts.
    record_request_event(request, "auth.2fa_failed", level=logging.WARNING,
                         organisation_id=user.organisation_id, user_id=user.id,
                         reason=event_type, **detail)
    if event_type != "auth.2fa_failed":
        record_request_event(request, event_type, level=logging.WARNING,
                             organisation_id=user.organisation_id, user_id=user.id, **detail)
    request.response.status_int = 401
    return {**values, "error": message}


def _throttle_second_factor(request, user, template, values):
    verdict = throttle.check(request, throttle.SECOND_FACTOR, user.id, user.id)
    if verdict.allowed:
        return None
    return throttled_response(request, verdict, template, values, "auth.2fa_throttled",
                              organisation_id=user.organisation_id, user_id=user.id)


@view_config(route_name="login_2fa", request_method="GET", renderer=VERIFY_TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)
def second_step_form(request):
    _challenge, _user, restart = _challenge_or_restart(request, challenges.VERIFY)
    return restart or {"error": None}


@view_config(route_name="login_2fa", request_method="POST", renderer=VERIFY_TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)
def second_step_submit(request):
    challenge, user, restart = _challenge_or_restart(request, challenges.VERIFY)
    if restart:
        record_request_event(request, "auth.2fa_challenge_invalid", level=logging.WARNING)
        return restart
    throttled = _throttle_second_factor(request, user, VERIFY_TEMPLATE, {})
    if throttled:
        return throttled

    settings = request.registry["promax.settings"]
    code = twofactor.normalise_code(request.POST.get("code", ""))
    if twofactor.TOTP_CODE.fullmatch(code):
        method = "totp"
        outcome = twofactor.accept_totp(
            request.dbsession, user, twofactor.active_secret(user, settings), code
        )
        if outcome == "replayed":
            return _reject_code(request, challenge, user, VERIFY_TEMPLATE, {},
                                "auth.2fa_code_replayed",
                                "This code was already used. Wait for the next code.")
    else:
        method = "recovery_code"
        outcome = twofactor.use_recovery_code(request.dbsession, user, settings, code)
        if outcome == "used":
            return _reject_code(request, challenge, user, VERIFY_TEMPLATE, {},
                                "auth.recovery_code_reused",
                                "This recovery code was already used. Each code works once.")
    if outcome != "accepted":
        return _reject_code(request, challenge, user, VERIFY_TEMPLATE, {}, "auth.2fa_failed",
                            "The code is incorrect.", method=method)

    if not challenges.consume(request.dbsession, challenge):
        return _restart(request)
    throttle.clear_account(request, throttle.SECOND_FACTOR, user.id)
    record_request_event(request, "auth.2fa_succeeded", organisation_id=user.organisation_id,
                         user_id=user.id, method=method)
    if method == "recovery_code":
        record_request_event(request, "auth.recovery_code_used",
                             organisation_id=user.organisation_id, user_id=user.id,
                             remaining=twofactor.remaining_recovery_codes(request.dbsession, user))
    _session, headers = open_session(request, user)
    headers.append(("Set-Cookie", challenges.clear_cookie()))
    return HTTPSeeOther(request.route_url("dashboard"), headers=headers)


def enrolment_values(user, secret):
    uri = twofactor.provisioning_uri(secret, user.email)
    return {"secret": secret, "otpauth_uri": uri, "qr_data_uri": twofactor.qr_data_uri(uri),
            "error": None}


@view_config(route_name="login_2fa_enrol", request_method="GET", renderer=ENROL_TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)
def pending_enrol_form(request):
    _challenge, user, restart = _challenge_or_restart(request, challenges.ENROL)
    if restart:
        return restart
    secret = twofactor.pending_secret(user, request.registry["promax.settings"])
    if secret is None:
        return _restart(request)
    request.response.headers["Cache-Control"] = "no-store"
    return {**enrolment_values(user, secret), "action": request.route_url("login_2fa_enrol")}


@view_config(route_name="login_2fa_enrol", request_method="POST", renderer=ENROL_TEMPLATE,
             permission=NO_PERMISSION_REQUIRED)
def pending_enrol_submit(request):
    challenge, user, restart = _challenge_or_restart(request, challenges.ENROL)
    if restart:
        record_request_event(request, "auth.2fa_challenge_invalid", level=logging.WARNING)
        return restart
    settings = request.registry["promax.settings"]
    secret = twofactor.pending_secret(user, settings)
    if secret is None:
        return _restart(request)
    values = {**enrolment_values(user, secret), "action": request.route_url("login_2fa_enrol")}
    throttled = _throttle_second_factor(request, user, ENROL_TEMPLATE, values)
    if throttled:
        return throttled

    code = twofactor.normalise_code(request.POST.get("code", ""))
    outcome = twofactor.confirm_enrolment(request.dbsession, user, settings, code)
    if outcome != "accepted":
        return _reject_code(request, challenge, user, ENROL_TEMPLATE, values, "auth.2fa_failed",
                            "The code is incorrect. Check the clock of your device and try "
                            "the current code.", method="enrolment")

    challenges.consume(request.dbsession, challenge)
    codes = twofactor.replace_recovery_codes(request.dbsession, user, settings)
    record_request_event(request, "auth.2fa_enabled", organisation_id=user.organisation_id,
                         user_id=user.id, during="sign-in")
    _session, headers = open_session(request, user)
    headers.append(("Set-Cookie", challenges.clear_cookie()))
    request.response.headerlist.extend(headers)
    return render_codes(request, codes)


def render_codes(request, codes):
    """Render the one-time display of new recovery codes, never cached."""
    request.response.headers["Cache-Control"] = "no-store"
    return render_to_response(CODES_TEMPLATE, {"codes": codes}, request=request,
                              response=request.response)


@view_config(route_name="logout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def logout(request):
    identity = request.identity
    if identity is not None:
        sessions.revoke_session(request.dbsession, identity.session_id)
        record_request_event(request, "auth.logout", session_id=identity.session_id)
    return HTTPSeeOther(request.route_url("login"), headers=forget(request))
