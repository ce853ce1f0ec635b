"""Server-side sessions: every valid token must name a live session row.

Functions that end a session or change what its user may do add the session
ids to ``stale_session_ids(dbsession)``. After the transaction commits,
promax.auth.session_cache deletes their cached identities.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from promax.auth.policy import effective_permissions, permission_scope
from promax.auth.useragent import parse_user_agent
from promax.models.control import (
    DepartmentPermission,
    Organisation,
    Session,
    User,
    UserPermission,
)

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
    permissions: frozenset = field(default_factory=frozenset)
    department_id: str | None = None

    @property
    def permission_scope(self):
        """A digest of the permissions, for cache keys of data that depends on them."""
        return permission_scope(self.permissions)


def stale_session_ids(dbsession):
    """Return the set of session ids whose cached identities must go after commit."""
    return dbsession.info.setdefault("promax.stale_session_ids", set())


def load_permissions(dbsession, user):
    """Return the effective permissions of a user: role, department and own changes."""
    department_permissions = ()
    if user.department_id:
        department_permissions = dbsession.scalars(
            select(DepartmentPermission.permission).where(
                DepartmentPermission.department_id == user.department_id
            )
        ).all()
    user_changes = dbsession.execute(
        select(UserPermission.permission, UserPermission.allowed).where(
            UserPermission.user_id == user.id
        )
    ).all()
    return effective_permissions(user.role, department_permissions, user_changes)


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
    """Return (Identity, expiry) for verified token claims, or None if the session is not live.

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
        permissions=load_permissions(dbsession, user),
        department_id=user.department_id,
    ), session.expires_at


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
    stale_session_ids(dbsession).add(session_id)
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
    mark_users_sessions_stale(dbsession, [user_id], except_session_id)
    result = dbsession.execute(
        statement.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount


def mark_users_sessions_stale(dbsession, user_ids, except_session_id=None):
    """Drop the cached identities of users' live sessions once the transaction commits.

    Call it after changing anything an Identity contains: role, permissions,
    department, active flag, 2FA state.
    """
    if not user_ids:
        return
    query = select(Session.id).where(
        Session.user_id.in_(list(user_ids)), Session.revoked_at.is_(None)
    )
    if except_session_id is not None:
        query = query.where(Session.id != except_session_id)
    stale_session_ids(dbsession).update(dbsession.scalars(query).all())


def mark_organisation_sessions_stale(dbsession, organisation_id):
    """Drop the cached identities of every live session of an organisation after commit."""
    query = select(Session.id).where(
        Session.organisation_id == organisation_id, Session.revoked_at.is_(None)
    )
    stale_session_ids(dbsession).update(dbsession.scalars(query).all())
