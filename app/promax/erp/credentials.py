"""Encryption of ERP credentials at rest: AES-256-GCM under a key derived from JWT_SECRET.

A ciphertext is one key-version byte, a 12-byte random nonce, then the GCM
ciphertext with its 16-byte tag. The associated data names the organisation
and the field, so a ciphertext copied to another organisation or another
column fails authentication instead of decrypting.

The key is derived with HKDF-SHA256 each time a cipher is built and is never
stored. A deployment's ciphertexts all carry version 1. During a rotation of
JWT_SECRET the cipher also holds the keys of JWT_SECRET_PREVIOUS, tried when
the current key fails authentication, and ``promax keys rotate`` re-encrypts
every link under the current key (see ``is_current`` and ``reencrypt``).
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from promax.tenants.schema import ORGANISATION_ID

FIELDS = frozenset({"site_url", "api_key", "api_secret"})
NONCE_BYTES = 12
KEY_BYTES = 32
TAG_BYTES = 16
# The version the single JWT_SECRET of a deployment gets when no keyring is given.
DEFAULT_KEY_VERSION = 1


class CredentialError(Exception):
    """Base class of credential encryption errors; messages never contain plaintext."""


class DecryptionError(CredentialError):
    """Raised when a ciphertext fails authentication or is malformed."""


class UnknownKeyVersion(CredentialError):
    """Raised when a ciphertext names a key version missing from the keyring."""


def derive_key(secret: bytes, version: int) -> bytes:
    """Derive the 256-bit credential key of one key version from a secret."""
    if not isinstance(secret, bytes) or not secret:
        raise CredentialError("the key secret must be non-empty bytes")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=b"promax erp-credentials aes-256-gcm key v%d" % version,
    )
    return hkdf.derive(secret)


def associated_data(organisation_id: str, field: str) -> bytes:
    """Return the associated data that binds a ciphertext to one organisation and field."""
    if not isinstance(organisation_id, str) or not ORGANISATION_ID.fullmatch(organisation_id):
        raise CredentialError(f"invalid organisation id: {organisation_id!r}")
    if field not in FIELDS:
        raise CredentialError(f"unknown credential field {field!r}: expected one of {sorted(FIELDS)}")
    return f"promax:erp:{organisation_id}:{field}".encode("ascii")


class CredentialCipher:
    """Encrypt with the current key version, decrypt with any version in the keyring.

    ``previous_keyring`` holds the secrets being rotated out. For each version,
    a ciphertext that fails authentication under the keyring's key is tried
    under the previous keyring's key of the same version.
    """

    def __init__(self, keyring: dict[int, bytes], current_version: int,
                 previous_keyring: dict[int, bytes] | None = None):
        if current_version not in keyring:
            raise CredentialError(f"current key version {current_version} is not in the keyring")
        previous_keyring = previous_keyring or {}
        for version in (*keyring, *previous_keyring):
            if not 0 <= version <= 255:
                raise CredentialError(f"key version {version} does not fit in one byte")
        self._ciphers = {
            version: [AESGCM(derive_key(secret, version))] for version, secret in keyring.items()
        }
        for version, secret in previous_keyring.items():
            self._ciphers.setdefault(version, []).append(AESGCM(derive_key(secret, version)))
        self._current = self._ciphers[current_version][0]
        self.current_version = current_version

    @classmethod
    def from_settings(cls, settings):
        """Build the cipher of a deployment: JWT_SECRET is key version 1.

        JWT_SECRET_PREVIOUS, when set, is a fallback for version 1.
        """
        previous = None
        if settings.jwt_secret_previous is not None:
            previous = {DEFAULT_KEY_VERSION: settings.jwt_secret_previous}
        return cls({DEFAULT_KEY_VERSION: settings.jwt_secret}, DEFAULT_KEY_VERSION, previous)

    def encrypt(self, organisation_id: str, field: str, plaintext: str) -> bytes:
        aad = associated_data(organisation_id, field)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._current.encrypt(nonce, plaintext.encode("utf-8"), aad)
        return bytes([self.current_version]) + nonce + sealed

    def decrypt(self, organisation_id: str, field: str, blob: bytes) -> str:
        aad = associated_data(organisation_id, field)
        blob = bytes(blob)
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(
                f"ciphertext of {field} for organisation {organisation_id} is truncated"
            )
        version = blob[0]
        ciphers = self._ciphers.get(version)
        if ciphers is None:
            raise UnknownKeyVersion(
                f"ciphertext of {field} for organisation {organisation_id} uses key version "
                f"{version}, which is not in the keyring"
            )
        nonce = blob[1 : 1 + NONCE_BYTES]
        for cipher in ciphers:
            try:
                return cipher.decrypt(nonce, blob[1 + NONCE_BYTES :], aad).decode("utf-8")
            except InvalidTag:
                continue
        raise DecryptionError(
            f"ciphertext of {field} for organisation {organisation_id} failed authentication: "
            "wrong key, or it belongs to another organisation or field"
        )

    def is_current(self, organisation_id: str, field: str, blob: bytes) -> bool:
        """Return True when the ciphertext decrypts under the current key of the current version."""
        aad = associated_data(organisation_id, field)
        blob = bytes(blob)
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[0] != self.current_version:
            return False
        try:
            self._current.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
        except InvalidTag:
            return False
        return True

    def key_version(self, blob: bytes) -> int:
        """Return the key version a ciphertext was written with."""
        if not blob:
            raise DecryptionError("empty ciphertext")
        return bytes(blob)[0]

    def reencrypt(self, organisation_id: str, field: str, blob: bytes) -> bytes:
        """Decrypt with the version the ciphertext names and encrypt with the current one."""
        return self.encrypt(organisation_id, field, self.decrypt(organisation_id, field, blob))
