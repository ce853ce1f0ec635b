"""Password hashing with bcrypt, and the policy a new password must meet.

bcrypt reads at most 72 bytes of input. Rather than cut a longer password
silently, ProMax rejects passwords over 72 bytes (UTF-8) when they are set,
and a longer input never matches at sign-in.

The policy requires 12 to 72 bytes that are not on the bundled list of
common passwords (common-passwords.txt beside this module), not one repeated
character and not the account's email address.
"""

from functools import cache
from importlib.resources import files

import bcrypt

BCRYPT_COST = 12
MAX_PASSWORD_BYTES = 72
MIN_PASSWORD_LENGTH = 12


class PasswordPolicyError(ValueError):
    """Raised when a new password does not meet the password policy."""


@cache
def common_passwords():
    """Return the bundled set of common passwords, lowercase."""
    text = files("promax.auth").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_policy(password, email=None):
    """Raise PasswordPolicyError with a message for the user when the password is unfit."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise PasswordPolicyError(
            f"password is too long: bcrypt uses at most {MAX_PASSWORD_BYTES} bytes "
            "(UTF-8); choose a shorter passphrase"
        )
    folded = password.strip().lower()
    if folded in common_passwords():
        raise PasswordPolicyError(
            "password is on the list of commonly used passwords: choose one that is harder "
            "to guess, for example four unrelated words"
        )
    if len(set(password)) == 1:
        raise PasswordPolicyError("password repeats a single character: choose a varied one")
    if email and folded in {email.lower(), email.lower().split("@")[0]}:
        raise PasswordPolicyError("password must not be your email address")


def hash_password(password, email=None):
    """Return a bcrypt hash with a fresh random salt, after checking the policy."""
    check_policy(password, email)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_COST)).decode("ascii")


def verify_password(password, password_hash):
    """Return True when the password matches the hash; never raises on bad input.

    Hashes made by PHP's password_hash carry the ``$2y$`` prefix, which is
    the same algorithm as ``$2b$``; the bcrypt library accepts both.
    """
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES or not password_hash:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:
        return False


# A hash of a random password, checked when the account does not exist, so a
# sign-in for an unknown email costs the same time as a wrong password.
DUMMY_HASH = bcrypt.hashpw(b"promax-no-such-user", bcrypt.gensalt(BCRYPT_COST)).decode("ascii")
