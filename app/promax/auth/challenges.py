"""The pending sign-in state between a correct password and the second factor.

The browser gets a random 32-byte token in an HttpOnly, Secure cookie that
lives CHALLENGE_MINUTES and is sent only to /login paths. The database keeps
the token's SHA-256 in a login_challenges row. The row grants nothing but the
second step of the same sign-in: it is not a session, the security policy
never reads it, and it is consumed by the first success.
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from webob.cookies import make_cookie

from promax.auth.sessions import utcnow
from promax.models.control import LoginChallenge, User
from promax.web.cookies import read_cookie

CHALLENGE_COOKIE = "promax_2fa_pending"
CHALLENGE_MINUTES = 5
# After this many wrong codes the challenge is void and the password is asked again.
MAX_FAILED_ATTEMPTS = 5
VERIFY = "verify"
ENROL = "enrol"


def _hash(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def challenge_cookie(value, max_age):
    return make_cookie(CHALLENGE_COOKIE, value, max_age=max_age, path="/login", secure=True,
                       httponly=True, samesite="lax")


def start_challenge(dbsession, user, purpose):
    """Store a challenge for the user; return the Set-Cookie header value that names it."""
    token = secrets.token_hex(32)
    now = utcnow()
    dbsession.add(
        LoginChallenge(
            token_hash=_hash(token),
            user_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(minutes=CHALLENGE_MINUTES),
            failed_attempts=0,
        )
    )
    dbsession.flush()
    return challenge_cookie(token, CHALLENGE_MINUTES * 60)


def load_challenge(request, purpose):
    """Return (challenge, user) for the request's pending cookie, or (None, None).

    The challenge must have the given purpose, be unexpired and unconsumed,
    have fewer than MAX_FAILED_ATTEMPTS failures, and its user must be active.
    """
    token = read_cookie(request, CHALLENGE_COOKIE) or ""
    if len(token) != 64:
        return None, None
    row = request.dbsession.execute(
        select(LoginChallenge, User)
        .join(User, User.id == LoginChallenge.user_id)
        .where(
            LoginChallenge.token_hash == _hash(token),
            LoginChallenge.purpose == purpose,
            LoginChallenge.consumed_at.is_(None),
            LoginChallenge.expires_at > utcnow(),
            LoginChallenge.failed_attempts < MAX_FAILED_ATTEMPTS,
            User.is_active.is_(True),
        )
    ).first()
    if row is None:
        return None, None
    return row


def count_failure(request, challenge):
    """Add one wrong code to the challenge, in its own transaction.

    The request's own transaction is rolled back because its response is a
    401, and the count must survive that.
    """
    with request.registry["db.session_factory"]() as session, session.begin():
        session.execute(
            update(LoginChallenge)
            .where(LoginChallenge.id == challenge.id)
            .values(failed_attempts=LoginChallenge.failed_attempts + 1)
        )


def consume(dbsession, challenge):
    """Mark the challenge used; return False when another request consumed it first."""
    result = dbsession.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge.id, LoginChallenge.consumed_at.is_(None))
        .values(consumed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def clear_cookie():
    return challenge_cookie("", 0)
