"""Server-side sessions: every valid token must name a live session row."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from promax.auth.useragent import parse_user_agent
from promax.models.control import Organisation, Session, User

# last_seen_at is written at most this often, so a busy page does not turn
# every read into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Identity:
    """The signed-in user of a request, as loaded from a live session."""

    user_id: str
    organisation_id: str
    organisation_slug: str
    organisation_name: str
    session_id: str
    email: str
    display_name: str
    role: str
    # True when the organisation requires 2FA and the user has not enrolled:
    # such a session may only enrol (see SessionSecurityPolicy.permits).
    must_enrol_2fa: bool = False


def utcnow():
    """Return the current UTC time without tzinfo, as MariaDB DATETIME stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def create_session(dbsession, user, ip_address, user_agent, lifetime, now=None):
    now = now or utcnow()
    device_type, browser = parse_user_agent(user_agent)
    session = Session(
        user_id=user.id,
        organisation_id=user.organisation_id,
        ip_address=(ip_address or "")[:45],
        user_agent=(user_agent or "")[:400],
        device_type=device_type,
        browser=browser[:40],
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    dbsession.add(session)
    dbsession.flush()
    return session


def load_identity(dbsession, claims):
    """Return the Identity for verified token claims, or None if the session is not live.

    A session is live when it exists, matches the token's user and
    organisation, is neither revoked nor expired, began after the user's last
    password change, and the user is active.
    """
    now = utcnow()
    row = dbsession.execute(
        select(Session, User, Organisation)
        .join(User, User.id == Session.user_id)
        .join(Organisation, Organisation.id == Session.organisation_id)
        .where(
            Session.id == claims.session_id,
            Session.user_id == claims.user_id,
            Session.organisation_id == claims.organisation_id,
            Session.revoked_at.is_(None),
            Session.expires_at > now,
            User.is_active.is_(True),
        )
    ).first()
    if row is None:
        return None

    session, user, organisation = row
    if session.created_at < user.password_changed_at:
        return None

    if now - session.last_seen_at >= LAST_SEEN_RESOLUTION:
        dbsession.execute(
            update(Session).where(Session.id == session.id).values(last_seen_at=now)
        )

    return Identity(
        user_id=user.id,
        organisation_id=organisation.id,
        organisation_slug=organisation.slug,
        organisation_name=organisation.name,
        session_id=session.id,
        email=user.email,
        display_name=user.display_name or user.email,
        role=user.role,
        must_enrol_2fa=organisation.require_2fa and user.totp_enabled_at is None,
    )


def live_sessions_query(now=None):
    """Select the sessions that are neither revoked nor expired, newest activity first."""
    now = now or utcnow()
    return (
        select(Session)
        .where(Session.revoked_at.is_(None), Session.expires_at > now)
        .order_by(Session.last_seen_at.desc(), Session.created_at.desc())
    )


def revoke_session(dbsession, session_id):
    """Revoke one session; return True when it was live until now."""
    result = dbsession.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def revoke_user_sessions(dbsession, user_id, except_session_id=None):
    """Revoke every live session of a user except one; return how many were revoked."""
    statement = update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if except_session_id is not None:
        statement = statement.where(Session.id != except_session_id)
    result = dbsession.execute(
        statement.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount
