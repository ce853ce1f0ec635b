"""Session tokens: only HS256 tokens naming a live session are accepted."""

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from conftest import sign_in
from sqlalchemy import create_engine, text


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def current_claims(browser, environ):
    token = browser.cookies["promax_session"]
    return jwt.decode(token, environ["JWT_SECRET"], algorithms=["HS256"])


def assert_rejected(browser, token):
    browser.set_cookie("promax_session", token)
    response = browser.get("/api/v1/overview/sales", status=401)
    assert response.json["error"]["code"] == "not_authenticated"


def rejected_events(environ):
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT COUNT(*) FROM audit_events WHERE event_type = 'auth.token_rejected'")
        ).scalar()
    engine.dispose()
    return count


@pytest.fixture
def signed_in(browser, admin, environ):
    sign_in(browser, admin["email"], admin["password"])
    browser.get("/api/v1/overview/sales", status=200)
    return current_claims(browser, environ)


def drop_cached_identity(environ, session_id):
    """Delete a session's cached identity, as the app does when it revokes a session.

    These tests change rows behind the app's back, so without this the
    cached identity would keep the session alive for up to a minute.
    """
    from pymemcache.client.base import Client

    from promax.auth.session_cache import session_key

    client = Client(environ["PROMAX_MEMCACHED_SERVER"])
    client.delete(session_key(session_id), noreply=False)
    client.close()


@pytest.mark.claim("C-4.1a")
def test_alg_none_rejected(browser, signed_in, environ):
    token = b64({"alg": "none", "typ": "JWT"}) + "." + b64(signed_in) + "."

    assert_rejected(browser, token)
    assert rejected_events(environ) == 1


@pytest.mark.claim("C-4.1a")
def test_other_key_rejected(browser, signed_in):
    token = jwt.encode(signed_in, "another-secret-of-at-least-32-bytes!!", algorithm="HS256")

    assert_rejected(browser, token)


@pytest.mark.claim("C-4.1a")
def test_hs512_rejected(browser, signed_in, environ):
    token = jwt.encode(signed_in, environ["JWT_SECRET"], algorithm="HS512")

    assert_rejected(browser, token)


@pytest.mark.claim("C-4.1a")
def test_rs256_rejected(browser, signed_in):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(signed_in, key, algorithm="RS256")

    assert_rejected(browser, token)


@pytest.mark.claim("C-4.1a")
def test_tampered_payload_rejected(browser, signed_in):
    header, _payload, signature = browser.cookies["promax_session"].split(".")
    token = f"{header}.{b64({**signed_in, 'sub': 'f' * 32})}.{signature}"

    assert_rejected(browser, token)


@pytest.mark.claim("C-4.1b")
def test_expired_token_rejected(browser, signed_in, environ):
    past = datetime.now(UTC) - timedelta(hours=9)
    claims = {**signed_in, "iat": int(past.timestamp()),
              "exp": int((past + timedelta(hours=8)).timestamp())}

    assert_rejected(browser, jwt.encode(claims, environ["JWT_SECRET"], algorithm="HS256"))


@pytest.mark.claim("C-4.1b")
def test_token_without_exp_rejected(browser, signed_in, environ):
    claims = {k: v for k, v in signed_in.items() if k != "exp"}

    assert_rejected(browser, jwt.encode(claims, environ["JWT_SECRET"], algorithm="HS256"))


@pytest.mark.claim("C-4.1b")
def test_default_lifetime_is_eight_hours(signed_in):
    assert signed_in["exp"] - signed_in["iat"] == 8 * 3600


@pytest.mark.claim("C-4.1d")
def test_revoked_session_rejected(browser, signed_in, environ):
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE sessions SET revoked_at = UTC_TIMESTAMP() WHERE id = :id"),
            {"id": signed_in["sid"]},
        )
    engine.dispose()
    drop_cached_identity(environ, signed_in["sid"])

    browser.get("/api/v1/overview/sales", status=401)


@pytest.mark.claim("C-4.1d")
def test_session_older_than_password_change_rejected(browser, signed_in, environ):
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET password_changed_at = UTC_TIMESTAMP() + INTERVAL 1 SECOND "
                 "WHERE id = :id"),
            {"id": signed_in["sub"]},
        )
    engine.dispose()
    drop_cached_identity(environ, signed_in["sid"])

    browser.get("/api/v1/overview/sales", status=401)


@pytest.mark.claim("C-4.1d")
@pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "é.é.é", "." * 5000])
def test_garbage_token_rejected_without_error(browser, admin, garbage):
    browser.set_cookie("promax_session", garbage)

    response = browser.get("/api/v1/overview/sales", status=401)

    assert response.json["error"]["status"] == 401


@pytest.mark.claim("C-4.1b")
@pytest.mark.parametrize("exp", [10**20, -(10**20), 1.5e300, "tomorrow", True])
def test_out_of_range_exp_rejected(browser, signed_in, environ, exp):
    # Signed with the real key, so only the claim checks can reject it.
    claims = {**signed_in, "exp": exp}
    token = jwt.encode(claims, environ["JWT_SECRET"], algorithm="HS256")

    assert_rejected(browser, token)
