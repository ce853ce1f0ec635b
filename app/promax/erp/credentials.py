"""Encryption of ERP credentials at rest: AES-256-GCM under a key derived from JWT_SECRET.

A ciphertext is one key-version byte, a 12-byte random nonce, then the GCM
ciphertext with its 16-byte tag. The associated data names the organisation
and the field, so a ciphertext copied to another organisation or another
column fails authentication instead of decrypting.

The key is derived with HKDF-SHA256 each time a cipher is built and is never
stored. To rotate JWT_SECRET, build the cipher with a keyring holding the old
secret under its version and the new one as current, then re-encrypt every
link with ``CredentialCipher.reencrypt``.
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
    """Encrypt with the current key version, decrypt with any version in the keyring."""

    def __init__(self, keyring: dict[int, bytes], current_version: int):
        if current_version not in keyring:
            raise CredentialError(f"current key version {current_version} is not in the keyring")
        for version in keyring:
            if not 0 <= version <= 255:
                raise CredentialError(f"key version {version} does not fit in one byte")
        self._ciphers = {
            version: AESGCM(derive_key(secret, version)) for version, secret in keyring.items()
        }
        self.current_version = current_version

    @classmethod
    def from_settings(cls, settings):
        """Build the cipher of a deployment: JWT_SECRET is the only key, version 1."""
        return cls({DEFAULT_KEY_VERSION: settings.jwt_secret}, DEFAULT_KEY_VERSION)

    def encrypt(self, organisation_id: str, field: str, plaintext: str) -> bytes:
        aad = associated_data(organisation_id, field)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_version].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return bytes([self.current_version]) + nonce + sealed

    def decrypt(self, organisation_id: str, field: str, blob: bytes) -> str:
        aad = associated_data(organisation_id, field)
        blob = bytes(blob)
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(
                f"ciphertext of {field} for organisation {organisation_id} is truncated"
            )
        version = blob[0]
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise UnknownKeyVersion(
                f"ciphertext of {field} for organisation {organisation_id} uses key version "
                f"{version}, which is not in the keyring"
            )
        nonce = blob[1 : 1 + NONCE_BYTES]
        try:
            plaintext = cipher.decrypt(nonce, blob[1 + NONCE_BYTES :], aad)
        except InvalidTag:
            raise DecryptionError(
                f"ciphertext of {field} for organisation {organisation_id} failed authentication: "
                "wrong key, or it belongs to another organisation or field"
            ) from None
        return plaintext.decode("utf-8")

    def key_version(self, blob: bytes) -> int:
        """Return the key version a ciphertext was written with."""
        if not blob:
            raise DecryptionError("empty ciphertext")
        return bytes(blob)[0]

    def reencrypt(self, organisation_id: str, field: str, blob: bytes) -> bytes:
        """Decrypt with the version the ciphertext names and encrypt with the current one."""
        return self.encrypt(organisation_id, field, self.decrypt(organisation_id, field, blob))
