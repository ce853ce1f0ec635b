"""Sign-in and sign-out."""

import logging

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config
from sqlalchemy import func, select

from promax.audit import record_request_event
from promax.auth import passwords, sessions, tokens
from promax.models.control import User

MAX_EMAIL_LENGTH = 254


@view_config(
    route_name="login",
    request_method="GET",
    renderer="promax:templates/login.jinja2",
    permission=NO_PERMISSION_REQUIRED,
)
def login_form(request):
    if request.identity is not None:
        return HTTPSeeOther(request.route_url("dashboard"))
    return {"email": "", "error": None}


@view_config(
    route_name="login",
    request_method="POST",
    renderer="promax:templates/login.jinja2",
    permission=NO_PERMISSION_REQUIRED,
)
def login_submit(request):
    email = request.POST.get("email", "").strip().lower()[:MAX_EMAIL_LENGTH]
    password = request.POST.get("password", "")

    user = None
    if email and password:
        user = request.dbsession.scalars(
            select(User).where(func.lower(User.email) == email, User.is_active.is_(True))
        ).one_or_none()
    # Verify against a dummy hash when the user is unknown, so the response
    # time does not tell which emails have accounts.
    password_ok = passwords.verify_password(
        password, user.password_hash if user else passwords.DUMMY_HASH
    )

    if user is None or not password_ok:
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

    settings = request.registry["promax.settings"]
    lifetime = tokens.session_lifetime(settings.session_hours)
    session = sessions.create_session(
        request.dbsession, user, request.client_ip, request.user_agent, lifetime
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
    return HTTPSeeOther(request.route_url("dashboard"), headers=remember(request, token))


@view_config(route_name="logout", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def logout(request):
    identity = request.identity
    if identity is not None:
        sessions.revoke_session(request.dbsession, identity.session_id)
        record_request_event(request, "auth.logout", session_id=identity.session_id)
    return HTTPSeeOther(request.route_url("login"), headers=forget(request))
