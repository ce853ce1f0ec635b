"""Two-step sign-in, TOTP enrolment, recovery codes and the 2FA requirement."""

import re
import time

import pyotp
import pytest
from conftest import audit_count, sign_in
from sqlalchemy import create_engine, text



def sql(environ, statement, **params):
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.begin() as connection:
        result = connection.execute(text(statement), params)
        rows = result.fetchall() if result.returns_rows else None
    engine.dispose()
    return rows


def enrol(browser):
    """Enrol the signed-in user in 2FA through the account pages; return (secret, codes)."""
    page = browser.get("/account/security")
    page.forms["enrol-start-form"].submit(status=303)
    page = browser.get("/account/2fa/enrol", status=200)
    secret = page.html.find(id="totp-secret").text.strip()
    form = page.forms["enrol-form"]
    form["code"] = pyotp.TOTP(secret).now()
    codes_page = form.submit(status=200)
    codes = [li.text.strip() for li in codes_page.html.find(id="recovery-codes").find_all("li")]
    return secret, codes


def password_step(browser, admin):
    response = sign_in(browser, admin["email"], admin["password"], status=303)
    assert response.location.endswith("/login/2fa")
    assert "promax_session" not in browser.cookies
    return browser.get("/login/2fa", status=200)


def submit_code(page, code, status):
    form = page.forms["second-factor-form"]
    form["code"] = code
    return form.submit(status=status)


def next_step_code(secret):
    """Return the code of the next time step, which is inside the ±1 step window."""
    return pyotp.TOTP(secret).at(time.time() + 30)


@pytest.fixture
def enrolled(browser, admin):
    sign_in(browser, admin["email"], admin["password"])
    secret, codes = enrol(browser)
    browser.post("/logout", {"csrf_token": browser.cookies["promax_csrf"]}, status=303)
    browser.reset()
    return secret, codes


@pytest.mark.claim("C-4.2a", "C-4.2b", "C-4.2c", "C-3.2e")
def test_enrolment_shows_qr_and_codes(browser, admin, environ):
    sign_in(browser, admin["email"], admin["password"])
    browser.get("/account/security").forms["enrol-start-form"].submit(status=303)
    page = browser.get("/account/2fa/enrol", status=200)

    secret = page.html.find(id="totp-secret").text.strip()
    uri = page.html.find(id="otpauth-uri")["data-otpauth-uri"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert uri.startswith("otpauth://totp/ProMax:")
    assert f"secret={secret}" in uri
    assert page.html.find(id="totp-qr")["src"].startswith("data:image/svg+xml")
    assert page.headers["Cache-Control"] == "no-store"

    stored = sql(environ, "SELECT totp_secret, totp_enabled_at FROM users")[0]
    assert secret.encode() not in bytes(stored[0])
    assert stored[1] is None  # not active before a code confirms it

    form = page.forms["enrol-form"]
    form["code"] = pyotp.TOTP(secret).now()
    codes_page = form.submit(status=200)
    codes = codes_page.html.find(id="recovery-codes").find_all("li")
    assert len(codes) == 10
    hashes = [row[0] for row in sql(environ, "SELECT code_hash FROM recovery_codes")]
    assert len(hashes) == 10
    assert not any(code.text.strip().replace("-", "") in h for code in codes for h in hashes)
    assert audit_count(environ, "auth.2fa_enabled") == 1


def test_enrolment_secrets_differ(browser, admin):
    sign_in(browser, admin["email"], admin["password"])
    seen = set()
    for _ in range(2):
        browser.get("/account/security").forms["enrol-start-form"].submit(status=303)
        seen.add(browser.get("/account/2fa/enrol").html.find(id="totp-secret").text.strip())

    assert len(seen) == 2


def test_enrolment_wrong_code_stays_off(browser, admin, environ):
    sign_in(browser, admin["email"], admin["password"])
    browser.get("/account/security").forms["enrol-start-form"].submit(status=303)
    form = browser.get("/account/2fa/enrol").forms["enrol-form"]
    form["code"] = "000000"

    form.submit(status=401)

    assert sql(environ, "SELECT totp_enabled_at FROM users")[0][0] is None
    assert audit_count(environ, "auth.2fa_failed") == 1


@pytest.mark.claim("C-4.2a", "C-4.2d")
def test_two_step_signin_with_pyotp(browser, admin, enrolled, environ):
    secret, _codes = enrolled
    page = password_step(browser, admin)

    # The pending state grants nothing: the API still wants a session.
    browser.get("/api/v1/overview/sales", status=401)
    assert not sql(environ, "SELECT id FROM sessions WHERE revoked_at IS NULL")

    response = submit_code(page, next_step_code(secret), status=303)

    assert response.location.endswith("/dashboard")
    browser.get("/api/v1/overview/sales", status=200)
    assert audit_count(environ, "auth.2fa_succeeded") == 1


@pytest.mark.claim("C-4.2d")
def test_wrong_code_rejected(browser, admin, enrolled, environ):
    page = password_step(browser, admin)

    response = submit_code(page, "123456" if pyotp.TOTP(enrolled[0]).now() != "123456"
                           else "654321", status=401)

    assert "incorrect" in response.text
    assert "promax_session" not in browser.cookies
    assert audit_count(environ, "auth.2fa_failed") == 1


@pytest.mark.claim("C-4.2a")
def test_replayed_totp_code_rejected(browser, admin, enrolled, environ):
    secret, _codes = enrolled
    code = next_step_code(secret)
    page = password_step(browser, admin)
    submit_code(page, code, status=303)
    browser.reset()

    page = password_step(browser, admin)
    response = submit_code(page, code, status=401)

    assert "already used" in response.text
    assert "promax_session" not in browser.cookies
    assert audit_count(environ, "auth.2fa_code_replayed") == 1


@pytest.mark.claim("C-4.2a")
def test_older_step_code_rejected_after_newer(browser, admin, enrolled, environ):
    secret, _codes = enrolled
    page = password_step(browser, admin)
    submit_code(page, next_step_code(secret), status=303)
    browser.reset()

    page = password_step(browser, admin)
    previous = pyotp.TOTP(secret).at(time.time() - 30)
    submit_code(page, previous, status=401)

    assert audit_count(environ, "auth.2fa_code_replayed") == 1


@pytest.mark.claim("C-3.2f")
def test_recovery_code_signs_in_once(browser, admin, enrolled, environ):
    _secret, codes = enrolled
    page = password_step(browser, admin)
    submit_code(page, codes[0].upper(), status=303)
    browser.get("/api/v1/overview/sales", status=200)
    browser.reset()

    page = password_step(browser, admin)
    response = submit_code(page, codes[0], status=401)

    assert "already used" in response.text
    assert "promax_session" not in browser.cookies
    assert audit_count(environ, "auth.recovery_code_reused") == 1
    assert audit_count(environ, "auth.recovery_code_used") == 1


@pytest.mark.claim("C-3.2f", "C-4.2c")
def test_regenerated_codes_replace_old(browser, admin, enrolled, environ):
    secret, old_codes = enrolled
    page = password_step(browser, admin)
    submit_code(page, next_step_code(secret), status=303)

    # The sign-in used the next step's code, so the current one is now a replay.
    form = browser.get("/account/security").forms["regenerate-form"]
    form["code"] = pyotp.TOTP(secret).now()
    form.submit(status=401)
    sql(environ, "UPDATE users SET totp_last_step = NULL")
    form = browser.get("/account/security").forms["regenerate-form"]
    form["code"] = pyotp.TOTP(secret).now()
    new_codes_page = form.submit(status=200)
    new_codes = [li.text.strip() for li in new_codes_page.html.find(id="recovery-codes").find_all("li")]
    browser.reset()

    assert set(new_codes).isdisjoint(old_codes)
    page = password_step(browser, admin)
    submit_code(page, old_codes[1], status=401)
    submit_code(browser.get("/login/2fa"), new_codes[0], status=303)


def test_pending_cookie_expires(browser, admin, enrolled, environ):
    secret, _codes = enrolled
    page = password_step(browser, admin)
    sql(environ, "UPDATE login_challenges SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND")

    response = submit_code(page, next_step_code(secret), status=303)

    assert "/login?expired=1" in response.location
    assert "promax_session" not in browser.cookies


def test_pending_cookie_flags(browser, admin, enrolled):
    response = sign_in(browser, admin["email"], admin["password"], status=303)

    cookie = [v for k, v in response.headerlist
              if k == "Set-Cookie" and v.startswith("promax_2fa_pending=")][0].lower()
    assert "httponly" in cookie
    assert "secure" in cookie
    assert "max-age=300" in cookie
    assert "path=/login" in cookie


def test_challenge_void_after_five_failures(browser, admin, enrolled, environ):
    secret, _codes = enrolled
    password_step(browser, admin)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    for _ in range(5):
        submit_code(browser.get("/login/2fa"), wrong, status=401)

    response = browser.get("/login/2fa", status=303)

    assert "expired=1" in response.location


@pytest.mark.claim("C-4.2e")
def test_required_2fa_forces_enrolment(browser, admin, promax, environ):
    promax("user", "create", "--org", "acme", "--email", "manager@acme.example", "--role",
           "manager", "--password-stdin", stdin="a manager passphrase\n")
    sign_in(browser, admin["email"], admin["password"])
    form = browser.get("/admin/security").forms["require-2fa-form"]
    form["require_2fa"] = True
    form.submit(status=303)
    assert audit_count(environ, "organisation.2fa_requirement_changed") == 1

    # The admin's own session, from before enrolment, may only enrol now.
    assert browser.get("/dashboard", status=303).location.endswith("/account/security")
    browser.get("/api/v1/overview/sales", status=403)
    browser.reset()

    response = sign_in(browser, "manager@acme.example", "a manager passphrase", status=303)
    assert response.location.endswith("/login/2fa/enrol")
    browser.get("/api/v1/overview/sales", status=401)
    page = browser.get("/login/2fa/enrol", status=200)
    secret = page.html.find(id="totp-secret").text.strip()
    form = page.forms["enrol-form"]
    form["code"] = pyotp.TOTP(secret).now()
    codes_page = form.submit(status=200)

    assert len(codes_page.html.find(id="recovery-codes").find_all("li")) == 10
    browser.get("/api/v1/overview/sales", status=200)


@pytest.mark.claim("C-4.2e")
def test_require_2fa_api_admin_only(browser, admin, promax):
    promax("user", "create", "--org", "acme", "--email", "viewer@acme.example", "--role",
           "viewer", "--password-stdin", stdin="a viewer passphrase\n")
    sign_in(browser, "viewer@acme.example", "a viewer passphrase")
    csrf = browser.cookies["promax_csrf"]

    browser.patch_json("/api/v1/admin/organisation", {"require_2fa": True},
                       headers={"X-CSRF-Token": csrf}, status=403)
