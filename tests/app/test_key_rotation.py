"""Rotation of JWT_SECRET: old tokens and ciphertexts work during the overlap, then stop."""

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from support.erpsim import API_KEY, API_SECRET
from support.gate import auth_headers, session_token

from promax.auth import tokens
from promax.auth.totp_cipher import TotpCipher, TotpSecretError
from promax.auth.twofactor import hash_recovery_code, recovery_pepper, use_recovery_code
from promax.config import ConfigurationError, load_settings
from promax.erp.credentials import CredentialCipher, DecryptionError
from promax.erp.link import load_credentials
from promax.models.control import RecoveryCode, User

ORG_ID = "0123456789abcdef0123456789abcdef"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_app(environ):
    import webtest

    from promax import make_config

    app = make_config(environ=environ).make_wsgi_app()
    return webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https",
                                               "HTTP_HOST": "promax.test"})


def rotated(environ, keep_previous=True):
    """Return the environment after a rotation: a new JWT_SECRET, the old one as previous."""
    new = dict(environ, JWT_SECRET=secrets.token_hex(32))
    if keep_previous:
        new["JWT_SECRET_PREVIOUS"] = environ["JWT_SECRET"]
    return new


def dropped_previous(environ):
    new = dict(environ)
    new.pop("JWT_SECRET_PREVIOUS", None)
    return new


def sql(environ, statement, **params):
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.begin() as connection:
        result = connection.execute(text(statement), params)
        rows = result.fetchall() if result.returns_rows else None
    engine.dispose()
    return rows


@pytest.mark.claim("C-3.3b")
def test_previous_secret_tokens_accepted_until_dropped(app, admin, environ):
    old_token = session_token(app, admin["email"])

    during = make_app(rotated(environ))
    after = make_app(dropped_previous(rotated(environ)))
    accepted = during.get("/api/v1/sessions", headers=auth_headers(old_token), expect_errors=True)
    rejected = after.get("/api/v1/sessions", headers=auth_headers(old_token), expect_errors=True)

    assert accepted.status_int == 200
    assert rejected.status_int == 401


@pytest.mark.claim("C-3.3b")
def test_new_tokens_signed_with_current_secret(app, admin, environ):
    environ_during = rotated(environ)
    during = make_app(environ_during)
    new_token = session_token(during.app, admin["email"])

    claims = tokens.decode_token(environ_during["JWT_SECRET"].encode(), new_token)

    assert claims.user_id == admin["id"]
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_token(environ["JWT_SECRET"].encode(), new_token)


@pytest.mark.claim("C-3.3b")
def test_decoder_tries_previous_secret_only_for_signature():
    current, previous = b"c" * 32, b"p" * 32
    lifetime = timedelta(hours=1)
    valid = tokens.issue_token(previous, "u", "o", "s", lifetime)
    expired = tokens.issue_token(previous, "u", "o", "s", lifetime,
                                 now=tokens.datetime.now(tokens.UTC) - timedelta(hours=2))
    foreign = tokens.issue_token(b"x" * 32, "u", "o", "s", lifetime)

    assert tokens.decode_token((current, previous), valid).user_id == "u"
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.decode_token((current, previous), expired)
    with pytest.raises(tokens.InvalidToken, match="Signature"):
        tokens.decode_token((current, previous), foreign)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_token(current, valid)


@pytest.mark.claim("C-3.3b")
def test_credential_cipher_falls_back_to_previous():
    old = CredentialCipher({1: b"old-secret" * 4}, 1)
    during = CredentialCipher({1: b"new-secret" * 4}, 1, previous_keyring={1: b"old-secret" * 4})
    after = CredentialCipher({1: b"new-secret" * 4}, 1)
    blob = old.encrypt(ORG_ID, "api_secret", "s3cret")

    fresh = during.reencrypt(ORG_ID, "api_secret", blob)

    assert during.decrypt(ORG_ID, "api_secret", blob) == "s3cret"
    assert during.is_current(ORG_ID, "api_secret", blob) is False
    assert during.is_current(ORG_ID, "api_secret", fresh) is True
    assert after.decrypt(ORG_ID, "api_secret", fresh) == "s3cret"
    with pytest.raises(DecryptionError):
        after.decrypt(ORG_ID, "api_secret", blob)


@pytest.mark.claim("C-3.3b")
def test_totp_cipher_falls_back_to_previous():
    blob = TotpCipher(b"old-secret" * 4).encrypt("user-1", TOTP_SECRET)
    during = TotpCipher(b"new-secret" * 4, previous_secret=b"old-secret" * 4)

    assert during.decrypt("user-1", blob) == TOTP_SECRET
    assert during.is_current("user-1", blob) is False
    assert during.is_current("user-1", during.encrypt("user-1", TOTP_SECRET)) is True
    with pytest.raises(TotpSecretError):
        TotpCipher(b"new-secret" * 4).decrypt("user-1", blob)


@pytest.mark.claim("C-3.3b")
def test_rotate_reencrypts_links_and_totp(app, promax, organisation, admin, environ, simulator,
                                          tmp_path):
    environ["PROMAX_ERP_LOCK_DIR"] = str(tmp_path / "erp-locks")
    promax("erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY,
           "--api-secret-stdin", stdin=API_SECRET + "\n")
    old_settings = load_settings(environ=environ)
    sql(environ, "UPDATE users SET totp_secret = :blob WHERE id = :id",
        blob=TotpCipher.from_settings(old_settings).encrypt(admin["id"], TOTP_SECRET),
        id=admin["id"])
    before = sql(environ, "SELECT api_secret FROM erp_links")[0][0]

    environ.update(rotated(environ))
    first = promax("keys", "rotate")
    second = promax("keys", "rotate")
    after = sql(environ, "SELECT api_secret FROM erp_links")[0][0]
    environ.pop("JWT_SECRET_PREVIOUS")
    settings = load_settings(environ=environ)
    tested = promax("erp", "test", "acme")

    assert first["changed"] is True
    assert first["erp_links"] == {"reencrypted": 1, "total": 1, "failed": []}
    assert first["totp_secrets"] == {"reencrypted": 1, "total": 1, "failed": []}
    assert second["changed"] is False
    assert second["erp_links"]["reencrypted"] == 0
    assert second["totp_secrets"]["reencrypted"] == 0
    assert before != after
    assert tested["ok"] is True
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with Session(engine) as session:
        credentials = load_credentials(session, settings, organisation["id"])
        user = session.get(User, admin["id"])
        totp_plain = TotpCipher.from_settings(settings).decrypt(user.id, user.totp_secret)
    engine.dispose()
    assert credentials.api_secret == API_SECRET
    assert totp_plain == TOTP_SECRET


@pytest.mark.claim("C-3.3b")
def test_rotate_reports_unreadable_ciphertexts(app, promax, organisation, environ, simulator):
    promax("erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY,
           "--api-secret-stdin", stdin=API_SECRET + "\n")

    # A new secret without the previous one: the stored link matches neither.
    environ.update(dropped_previous(rotated(environ)))
    result = promax("keys", "rotate", expect_status=1)

    assert result["erp_links"]["failed"] == [organisation["id"]]
    assert result["erp_links"]["reencrypted"] == 0


@pytest.mark.claim("C-3.3b")
def test_recovery_code_accepted_during_overlap(app, admin, environ):
    old_settings = load_settings(environ=environ)
    code = "abcde-fghij"
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with Session(engine) as session, session.begin():
        session.add(RecoveryCode(user_id=admin["id"],
                                 code_hash=hash_recovery_code(recovery_pepper(old_settings), code)))

    with Session(engine) as session, session.begin():
        user = session.get(User, admin["id"])
        during = use_recovery_code(session, user, load_settings(environ=rotated(environ)), code)
    engine.dispose()

    assert during == "accepted"


def test_previous_secret_setting_checked():
    base = {"JWT_SECRET": "j" * 40, "PROMAX_DATABASE_URL": "mysql+pymysql://u@localhost/d"}

    with pytest.raises(ConfigurationError, match="JWT_SECRET_PREVIOUS"):
        load_settings(environ=dict(base, JWT_SECRET_PREVIOUS="short"))
    assert load_settings(environ=dict(base, JWT_SECRET_PREVIOUS="j" * 40)).jwt_secrets == (
        b"j" * 40,)
    assert load_settings(environ=dict(base, JWT_SECRET_PREVIOUS="p" * 40)).jwt_secrets == (
        b"j" * 40, b"p" * 40)
    assert load_settings(environ=dict(base, JWT_SECRET_PREVIOUS="")).jwt_secret_previous is None
