"""Session tokens: HS256 JWTs that name a server-side session row."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "org", "sid")


class InvalidToken(Exception):
    """Raised for any token that is forged, expired, malformed or incomplete."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    organisation_id: str
    session_id: str
    issued_at: datetime
    expires_at: datetime


def issue_token(secret, user_id, organisation_id, session_id, lifetime, now=None):
    """Return a signed token for a session that expires after `lifetime`."""
    now = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "org": organisation_id,
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret, token):
    """Verify a token's signature and claims; raise InvalidToken on any defect.

    ``secret`` is one secret or a sequence of them, tried in order: during a
    key rotation it is (current, previous), so tokens signed before the
    rotation stay valid until they expire. The algorithm is pinned to HS256,
    so `none`, RS256 and HS512 tokens fail before their claims are read.
    """
    candidates = [secret] if isinstance(secret, (bytes, str)) else list(secret)
    if not candidates:
        raise ValueError("decode_token needs at least one secret")
    for index, candidate in enumerate(candidates):
        try:
            claims = jwt.decode(
                token,
                candidate,
                algorithms=[ALGORITHM],
                options={"require": list(REQUIRED_CLAIMS)},
            )
            break
        except jwt.InvalidSignatureError as error:
            # Only a wrong signature moves on to the next secret. An expired or
            # malformed token is rejected by the secret that signed it.
            if index == len(candidates) - 1:
                raise InvalidToken(str(error)) from None
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None

    for name in ("sub", "org", "sid"):
        if not isinstance(claims[name], str):
            raise InvalidToken(f"claim {name} must be a string")

    # PyJWT accepts any number for iat and exp, and a huge one would overflow
    # datetime. Only whole seconds within datetime's range are valid.
    try:
        issued_at = _timestamp(claims["iat"])
        expires_at = _timestamp(claims["exp"])
    except (OverflowError, OSError, ValueError, TypeError):
        raise InvalidToken("claims iat and exp must be timestamps in range") from None

    return TokenClaims(
        user_id=claims["sub"],
        organisation_id=claims["org"],
        session_id=claims["sid"],
        issued_at=issued_at,
        expires_at=expires_at,
    )


def _timestamp(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("timestamp is not an integer")
    return datetime.fromtimestamp(value, UTC)


def session_lifetime(hours):
    return timedelta(hours=hours)
