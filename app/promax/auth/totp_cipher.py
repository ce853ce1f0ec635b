"""Encryption of TOTP secrets at rest: AES-256-GCM under a key derived from JWT_SECRET.

A ciphertext is one key-version byte, a 12-byte random nonce, then the GCM
ciphertext with its 16-byte tag, the layout of the ERP credential cipher.
The key comes from HKDF-SHA256 with its own info string, so it differs from
the ERP credential key, and the associated data names the user, so a
ciphertext copied to another user's row fails authentication.

During a rotation of JWT_SECRET, a ciphertext that fails under the current
key is tried under the key of JWT_SECRET_PREVIOUS, until ``promax keys
rotate`` re-encrypts it.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16


class TotpSecretError(Exception):
    """Raised when a stored TOTP secret cannot be decrypted; never contains the secret."""


def derive_key(secret: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"promax totp-secret aes-256-gcm key v%d" % KEY_VERSION,
    )
    return hkdf.derive(secret)


def associated_data(user_id: str) -> bytes:
    return f"promax:user:{user_id}:totp_secret".encode("ascii")


class TotpCipher:
    def __init__(self, jwt_secret: bytes, previous_secret: bytes | None = None):
        self._aead = AESGCM(derive_key(jwt_secret))
        self._candidates = [self._aead]
        if previous_secret is not None:
            self._candidates.append(AESGCM(derive_key(previous_secret)))

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.jwt_secret, settings.jwt_secret_previous)

    def encrypt(self, user_id: str, totp_secret: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, totp_secret.encode("ascii"), associated_data(user_id))
        return bytes([KEY_VERSION]) + nonce + sealed

    def decrypt(self, user_id: str, blob: bytes) -> str:
        blob = bytes(blob or b"")
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[0] != KEY_VERSION:
            raise TotpSecretError(f"TOTP secret of user {user_id} is truncated or has an unknown "
                                  "key version")
        for aead in self._candidates:
            try:
                plaintext = aead.decrypt(
                    blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], associated_data(user_id)
                )
            except InvalidTag:
                continue
            return plaintext.decode("ascii")
        raise TotpSecretError(
            f"TOTP secret of user {user_id} failed authentication: wrong JWT_SECRET, "
            "or the ciphertext belongs to another user"
        )

    def is_current(self, user_id: str, blob: bytes) -> bool:
        """Return True when the ciphertext decrypts under the key of the current JWT_SECRET."""
        blob = bytes(blob or b"")
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[0] != KEY_VERSION:
            return False
        try:
            self._aead.decrypt(
                blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], associated_data(user_id)
            )
        except InvalidTag:
            return False
        return True
