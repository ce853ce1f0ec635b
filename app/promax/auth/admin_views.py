"""Organisation security for admins: require 2FA and revoke any session of the organisation."""

import logging

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from promax.audit import record_request_event
from promax.auth import sessions
from promax.auth.account_views import RevokedSchema, SessionSchema, session_json
from promax.models.control import Organisation, Session, User
from promax.validation import StrictSchema, rules

ADMIN_TEMPLATE = "promax:templates/admin_security.jinja2"


class OrganisationSecurityBody(StrictSchema):
    require_2fa = rules.boolean(required=True)


class OrganisationSecuritySchema(StrictSchema):
    require_2fa = rules.boolean(required=True)


class AdminSessionSchema(SessionSchema):
    email = rules.email(required=True)


class AdminSessionListSchema(StrictSchema):
    sessions = rules.list_of(rules.nested(AdminSessionSchema), required=True)


def organisation_sessions(request):
    """Return (session, user email) pairs of every live session in the admin's organisation."""
    rows = request.dbsession.execute(
        sessions.live_sessions_query()
        .add_columns(User.email)
        .join(User, User.id == Session.user_id)
        .where(Session.organisation_id == request.identity.organisation_id)
    ).all()
    return rows


def revoke_in_organisation(request, session_id):
    """Revoke a session of the admin's organisation; any other id is not found (404)."""
    session = request.dbsession.get(Session, session_id)
    if session is None or session.organisation_id != request.identity.organisation_id:
        record_request_event(request, "session.admin_revoke_rejected", level=logging.WARNING,
                             target_session_id=session_id[:32], reason="not found")
        raise HTTPNotFound()
    sessions.revoke_session(request.dbsession, session.id)
    record_request_event(request, "session.revoked_by_admin", target_session_id=session.id,
                         target_user_id=session.user_id)


def set_require_2fa(request, required):
    organisation = request.dbsession.get(Organisation, request.identity.organisation_id)
    if organisation.require_2fa != required:
        organisation.require_2fa = required
        record_request_event(request, "organisation.2fa_requirement_changed", required=required)
        sessions.mark_organisation_sessions_stale(request.dbsession, organisation.id)
    return organisation


@view_config(route_name="admin_security", request_method="GET", renderer=ADMIN_TEMPLATE,
             permission="organisation.security")
def admin_security_page(request):
    organisation = request.dbsession.get(Organisation, request.identity.organisation_id)
    current = request.identity.session_id
    return {
        "require_2fa": organisation.require_2fa,
        "sessions": [{**session_json(s, current), "email": email}
                     for s, email in organisation_sessions(request)],
    }


@view_config(route_name="admin_require_2fa", request_method="POST",
             permission="organisation.security")
def admin_require_2fa_form(request):
    set_require_2fa(request, request.POST.get("require_2fa") == "on")
    return HTTPSeeOther(request.route_url("admin_security"))


@view_config(route_name="admin_session_revoke", request_method="POST",
             permission="organisation.security")
def admin_session_revoke_form(request):
    revoke_in_organisation(request, request.matchdict["session_id"])
    return HTTPSeeOther(request.route_url("admin_security"))


@view_config(route_name="api.admin_sessions", request_method="GET", renderer="json",
             permission="organisation.security", response_schema=AdminSessionListSchema)
def admin_sessions_api(request):
    """List every live session of the organisation."""
    current = request.identity.session_id
    return {"sessions": [{**session_json(s, current), "email": email}
                         for s, email in organisation_sessions(request)]}


@view_config(route_name="api.admin_session", request_method="DELETE", renderer="json",
             permission="organisation.security", response_schema=RevokedSchema)
def admin_session_revoke_api(request):
    """Revoke any session of the organisation."""
    revoke_in_organisation(request, request.matchdict["session_id"])
    return {"revoked": True}


@view_config(route_name="api.admin_organisation", request_method="PATCH", renderer="json",
             permission="organisation.security", body_schema=OrganisationSecurityBody,
             response_schema=OrganisationSecuritySchema)
def admin_organisation_api(request):
    """Update the organisation's security settings; only ``require_2fa`` exists so far."""
    body = request.validated["body"]
    organisation = set_require_2fa(request, body["require_2fa"])
    return {"require_2fa": organisation.require_2fa}
