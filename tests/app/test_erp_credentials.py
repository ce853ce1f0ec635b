"""Encryption of ERP credentials at rest."""

import secrets

import pytest

from promax.erp.credentials import (
    NONCE_BYTES,
    CredentialCipher,
    CredentialError,
    DecryptionError,
    UnknownKeyVersion,
    derive_key,
)

ORG_A = "a" * 32
ORG_B = "b" * 32


@pytest.fixture
def cipher():
    return CredentialCipher({1: secrets.token_bytes(32)}, 1)


@pytest.mark.claim("C-3.2a")
def test_round_trip_and_format(cipher):
    blob = cipher.encrypt(ORG_A, "api_secret", "s3cr3t-value")

    assert blob[0] == 1
    assert len(blob) == 1 + NONCE_BYTES + len("s3cr3t-value") + 16
    assert b"s3cr3t-value" not in blob
    assert cipher.decrypt(ORG_A, "api_secret", blob) == "s3cr3t-value"


@pytest.mark.claim("C-3.2a")
def test_nonce_is_fresh_per_encryption(cipher):
    first = cipher.encrypt(ORG_A, "api_key", "same")
    second = cipher.encrypt(ORG_A, "api_key", "same")

    assert first[1 : 1 + NONCE_BYTES] != second[1 : 1 + NONCE_BYTES]
    assert first != second


@pytest.mark.claim("C-3.2a")
def test_ciphertext_moved_to_other_org_fails(cipher):
    blob = cipher.encrypt(ORG_A, "api_secret", "s3cr3t-value")

    with pytest.raises(DecryptionError) as raised:
        cipher.decrypt(ORG_B, "api_secret", blob)
    assert "s3cr3t-value" not in str(raised.value)


@pytest.mark.claim("C-3.2a")
def test_ciphertext_moved_to_other_field_fails(cipher):
    blob = cipher.encrypt(ORG_A, "api_secret", "s3cr3t-value")

    with pytest.raises(DecryptionError):
        cipher.decrypt(ORG_A, "api_key", blob)
    with pytest.raises(DecryptionError):
        cipher.decrypt(ORG_A, "site_url", blob)


@pytest.mark.claim("C-3.2a")
def test_tampered_ciphertext_fails(cipher):
    blob = bytearray(cipher.encrypt(ORG_A, "site_url", "https://erp.example.com"))
    blob[-1] ^= 0x01

    with pytest.raises(DecryptionError):
        cipher.decrypt(ORG_A, "site_url", bytes(blob))


@pytest.mark.claim("C-3.2a")
def test_unknown_field_and_bad_org_rejected(cipher):
    with pytest.raises(CredentialError):
        cipher.encrypt(ORG_A, "password", "x")
    with pytest.raises(CredentialError):
        cipher.encrypt("../../etc", "api_key", "x")


@pytest.mark.claim("C-3.2b")
def test_key_derivation_is_deterministic():
    secret = secrets.token_bytes(32)

    assert derive_key(secret, 1) == derive_key(secret, 1)
    assert derive_key(secret, 1) != derive_key(secret, 2)
    assert derive_key(secret, 1) != secret[:32]
    assert len(derive_key(secret, 1)) == 32


@pytest.mark.claim("C-3.2b")
def test_other_secret_cannot_decrypt():
    blob = CredentialCipher({1: b"x" * 32}, 1).encrypt(ORG_A, "api_key", "key")

    with pytest.raises(DecryptionError):
        CredentialCipher({1: b"y" * 32}, 1).decrypt(ORG_A, "api_key", blob)


@pytest.mark.claim("C-3.2b")
def test_keyring_rotation():
    old_secret, new_secret = b"o" * 32, b"n" * 32
    old_blob = CredentialCipher({1: old_secret}, 1).encrypt(ORG_A, "api_key", "key")
    rotating = CredentialCipher({1: old_secret, 2: new_secret}, 2)

    new_blob = rotating.reencrypt(ORG_A, "api_key", old_blob)

    assert rotating.key_version(new_blob) == 2
    assert CredentialCipher({2: new_secret}, 2).decrypt(ORG_A, "api_key", new_blob) == "key"
    with pytest.raises(UnknownKeyVersion):
        CredentialCipher({2: new_secret}, 2).decrypt(ORG_A, "api_key", old_blob)
