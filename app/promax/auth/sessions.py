"""Server-side sessions: every valid token must name a live session row."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

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


def utcnow():
    """Return the current UTC time without tzinfo, as MariaDB DATETIME stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def create_session(dbsession, user, ip_address, user_agent, lifetime):
    session = Session(
        user_id=user.id,
        organisation_id=user.organisation_id,
        ip_address=(ip_address or "")[:45],
        user_agent=(user_agent or "")[:400],
        expires_at=utcnow() + lifetime,
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
    )


def revoke_session(dbsession, session_id):
    dbsession.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
