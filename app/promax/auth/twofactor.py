"""TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps) and one-time recovery codes.

A code is accepted for the current time step or one step either side. The
step of each accepted code is stored, and only a later step is accepted
afterwards, so a code can never be used twice, even by two workers at once:
the check and the update are one conditional UPDATE.
"""

import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update

from promax.auth.sessions import mark_users_sessions_stale, utcnow
from promax.auth.totp_cipher import TotpCipher
from promax.models.control import RecoveryCode, User

ISSUER = "ProMax"
STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# Recovery codes use lowercase letters and digits without look-alikes (0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE = re.compile(r"[a-z0-9]{5}-?[a-z0-9]{5}")
TOTP_CODE = re.compile(r"\d{6}")


def totp_for(secret):
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def normalise_code(text):
    """Strip spaces and dashes users type around a code, and lower its case."""
    return re.sub(r"[\s]", "", (text or "")[:64]).lower()


# --- TOTP -----------------------------------------------------------------


def begin_enrolment(dbsession, user, settings):
    """Store a new random secret for the user, inactive until confirmed; return it."""
    secret = pyotp.random_base32()
    user.totp_secret = TotpCipher.from_settings(settings).encrypt(user.id, secret)
    user.totp_enabled_at = None
    user.totp_last_step = None
    dbsession.flush()
    # A cached identity records whether the user must still enrol.
    mark_users_sessions_stale(dbsession, [user.id])
    return secret


def pending_secret(user, settings):
    """Return the decrypted secret of an enrolment that awaits its first code, or None."""
    if user.totp_secret is None or user.totp_enabled_at is not None:
        return None
    return TotpCipher.from_settings(settings).decrypt(user.id, user.totp_secret)


def provisioning_uri(secret, email):
    """Return the otpauth:// URI that authenticator apps read from the QR code."""
    return totp_for(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri):
    """Return the QR code of a URI as an SVG ``data:`` URI for an ``<img>`` element.

    The page's Content-Security-Policy allows ``data:`` images, and an image
    keeps the SVG out of the HTML, so nothing in it needs escaping.
    """
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def matching_step(secret, code, now=None):
    """Return the time step within the window whose code equals `code`, or None."""
    if not TOTP_CODE.fullmatch(code or ""):
        return None
    totp = totp_for(secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    matched = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # Compare every candidate, so the time taken does not depend on which matched.
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            matched = step
    return matched


def accept_totp(dbsession, user, secret, code, now=None):
    """Return "accepted", "replayed" or "invalid" for a code, recording an accepted step.

    The UPDATE succeeds only when the stored step is older than the matched
    one, so of two requests with the same code exactly one is accepted.
    """
    step = matching_step(secret, code, now)
    if step is None:
        return "invalid"
    result = dbsession.execute(
        update(User)
        .where(
            User.id == user.id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return "replayed"
    user.totp_last_step = step
    return "accepted"


def active_secret(user, settings):
    """Return the decrypted secret of an enabled second factor, or None."""
    if user.totp_secret is None or user.totp_enabled_at is None:
        return None
    return TotpCipher.from_settings(settings).decrypt(user.id, user.totp_secret)


def confirm_enrolment(dbsession, user, settings, code, now=None):
    """Activate a pending enrolment when `code` is valid; return the accept_totp result."""
    secret = pending_secret(user, settings)
    if secret is None:
        return "invalid"
    outcome = accept_totp(dbsession, user, secret, code, now)
    if outcome == "accepted":
        user.totp_enabled_at = utcnow()
        dbsession.flush()
        mark_users_sessions_stale(dbsession, [user.id])
    return outcome


# --- recovery codes -------------------------------------------------------


def recovery_pepper(settings, secret=None):
    """Derive the HMAC key of recovery-code hashes, so a database copy alone cannot test guesses.

    The key comes from JWT_SECRET unless ``secret`` names another one.
    """
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"promax recovery-code hmac key v1")
    return hkdf.derive(secret if secret is not None else settings.jwt_secret)


def recovery_peppers(settings):
    """Return the peppers a recovery code is checked against, the current one first.

    NOTE: codes hashed before a key rotation match only the previous pepper,
    so they stop working once JWT_SECRET_PREVIOUS is removed. A hash cannot be
    recomputed without the code, so users must generate new codes.
    """
    return [recovery_pepper(settings, secret) for secret in settings.jwt_secrets]


def hash_recovery_code(pepper, code, salt=None):
    """Return ``v1$<salt hex>$<HMAC-SHA256 hex>`` for a normalised code."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hmac.new(pepper, salt + code.replace("-", "").encode("ascii"), hashlib.sha256)
    return f"v1${salt.hex()}${digest.hexdigest()}"


def recovery_code_matches(pepper, code, stored):
    try:
        version, salt_hex, _digest = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if version != "v1":
        return False
    return hmac.compare_digest(hash_recovery_code(pepper, code, salt), stored)


def new_recovery_code():
    letters = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


def replace_recovery_codes(dbsession, user, settings):
    """Delete the user's recovery codes and store ten new ones; return them in plain text once."""
    pepper = recovery_pepper(settings)
    for row in dbsession.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        dbsession.delete(row)
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        dbsession.add(RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(pepper, code)))
    dbsession.flush()
    return codes


def use_recovery_code(dbsession, user, settings, code):
    """Return "accepted", "used" or "invalid"; an accepted code is spent atomically.

    "used" means the code matched one that was already spent.
    """
    code = normalise_code(code)
    if not RECOVERY_CODE.fullmatch(code):
        return "invalid"
    peppers = recovery_peppers(settings)
    rows = dbsession.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    for row in rows:
        if not any(recovery_code_matches(pepper, code, row.code_hash) for pepper in peppers):
            continue
        if row.used_at is not None:
            return "used"
        result = dbsession.execute(
            update(RecoveryCode)
            .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return "accepted" if result.rowcount == 1 else "used"
    return "invalid"


def remaining_recovery_codes(dbsession, user):
    rows = dbsession.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    return len(rows)
