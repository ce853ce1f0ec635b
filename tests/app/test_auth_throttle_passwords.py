"""Throttling of failed sign-ins and codes, and password hashing and policy."""

import bcrypt
import pyotp
import pytest
import webtest
from conftest import audit_count, sign_in
from sqlalchemy import create_engine, text

from promax import make_config
from promax.auth import passwords, useragent

# From the PHP manual's password_verify example: password_hash output for
# "rasmuslerdorf", cost 7 with PHP's $2y$ prefix.
PHP_2Y_HASH = "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq"



@pytest.mark.claim("C-5.1c")
def test_signin_throttled_per_account(browser, admin, environ):
    for _ in range(5):
        sign_in(browser, admin["email"], "wrong password attempt", status=401)

    response = sign_in(browser, admin["email"], admin["password"], status=429)

    assert "Too many failed attempts" in response.text
    assert 0 < int(response.headers["Retry-After"]) <= 900
    assert "promax_session" not in browser.cookies
    assert audit_count(environ, "auth.login_throttled") == 1
    assert audit_count(environ, "auth.login_failed") == 5


@pytest.mark.claim("C-5.1c")
def test_signin_throttled_without_memcached(app, promax, admin, environ):
    environ = {**environ, "PROMAX_MEMCACHED_SERVER": "/nonexistent/memcached.sock"}
    no_cache = webtest.TestApp(make_config(environ=environ).make_wsgi_app(),
                               extra_environ={"wsgi.url_scheme": "https",
                                              "HTTP_HOST": "promax.test"})
    for _ in range(5):
        sign_in(no_cache, admin["email"], "wrong password attempt", status=401)

    response = sign_in(no_cache, admin["email"], admin["password"], status=429)

    assert response.headers["Retry-After"] == "900"
    assert audit_count(environ, "auth.login_throttled") == 1


@pytest.mark.claim("C-5.1c")
def test_signin_throttled_per_ip(app, promax, organisation, environ):
    emails = [f"user{i}@acme.example" for i in range(31)]
    client = webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https",
                                                 "HTTP_HOST": "promax.test",
                                                 "REMOTE_ADDR": "203.0.113.9"})
    for email in emails[:30]:
        sign_in(client, email, "not anybody's password", status=401)

    sign_in(client, emails[30], "not anybody's password", status=429)

    other_ip = webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https",
                                                   "HTTP_HOST": "promax.test",
                                                   "REMOTE_ADDR": "203.0.113.10"})
    sign_in(other_ip, emails[30], "not anybody's password", status=401)


@pytest.mark.claim("C-5.1c", "C-4.2d")
def test_second_factor_throttled(browser, admin, environ):
    sign_in(browser, admin["email"], admin["password"])
    page = browser.get("/account/security")
    page.forms["enrol-start-form"].submit(status=303)
    page = browser.get("/account/2fa/enrol")
    secret = page.html.find(id="totp-secret").text.strip()
    form = page.forms["enrol-form"]
    form["code"] = pyotp.TOTP(secret).now()
    form.submit(status=200)
    browser.reset()
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"

    # Each challenge allows five codes, so it takes two password steps to reach the limit.
    for attempt in range(5):
        if attempt % 4 == 0:
            sign_in(browser, admin["email"], admin["password"], status=303)
        form = browser.get("/login/2fa").forms["second-factor-form"]
        form["code"] = wrong
        form.submit(status=401)
    sign_in(browser, admin["email"], admin["password"], status=303)
    form = browser.get("/login/2fa").forms["second-factor-form"]
    form["code"] = pyotp.TOTP(secret).now()
    response = form.submit(status=429)

    assert "Retry-After" in response.headers
    assert audit_count(environ, "auth.2fa_throttled") == 1


@pytest.mark.claim("C-3.2d")
def test_php_2y_hash_verifies():
    assert passwords.verify_password("rasmuslerdorf", PHP_2Y_HASH)
    assert not passwords.verify_password("rasmuslerdorF", PHP_2Y_HASH)


@pytest.mark.claim("C-3.2d")
def test_php_2y_user_signs_in(browser, admin, environ):
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE users SET password_hash = :h"), {"h": PHP_2Y_HASH})
    engine.dispose()

    sign_in(browser, admin["email"], "rasmuslerdorf", status=303)


@pytest.mark.claim("C-3.2d")
def test_hash_cost_and_salt():
    first = passwords.hash_password("a long enough passphrase")
    second = passwords.hash_password("a long enough passphrase")

    assert first.startswith("$2b$12$")
    assert first != second
    assert bcrypt.checkpw(b"a long enough passphrase", first.encode())


@pytest.mark.claim("C-3.2d")
def test_over_72_bytes_rejected_not_truncated():
    long_password = "é" * 37  # 74 bytes in UTF-8
    truncated_hash = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()

    with pytest.raises(passwords.PasswordPolicyError, match="too long"):
        passwords.hash_password(long_password)
    assert not passwords.verify_password(long_password, truncated_hash)


@pytest.mark.parametrize("password, message", [
    ("short", "too short"),
    ("Password1234", "commonly used"),
    ("qwertyuiop123", "commonly used"),
    ("aaaaaaaaaaaaaa", "commonly used"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzz", "single character"),
    ("alice.smith@acme.example", "email address"),
])
def test_password_policy_rejections(password, message):
    with pytest.raises(passwords.PasswordPolicyError, match=message):
        passwords.check_policy(password, "alice.smith@acme.example")


def test_common_password_list_loaded():
    assert len(passwords.common_passwords()) > 5000
    passwords.check_policy("violet tram under seven hills")


@pytest.mark.parametrize("agent, expected", [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", ("desktop", "Edge")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0; rv:133.0) Gecko/20100101 Firefox/133.0",
     ("desktop", "Firefox")),
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.0 Mobile/15E148 Safari/604.1", ("tablet", "Safari")),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36", ("mobile", "Chrome")),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", ("tablet", "Chrome")),
    ("Googlebot/2.1 (+http://www.google.com/bot.html)", ("bot", "unknown")),
    ("curl/8.5.0", ("bot", "curl")),
    ("", ("unknown", "unknown")),
])
def test_user_agent_parsing(agent, expected):
    assert useragent.parse_user_agent(agent) == expected
