"""Sign-in, the session cookie and the sales overview through the WSGI app."""

import pytest
from conftest import sign_in


@pytest.mark.claim("C-4.1c")
def test_signin_sets_secure_cookie(browser, admin):
    response = sign_in(browser, admin["email"], admin["password"])

    cookies = [v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith("promax_session=")]
    assert len(cookies) == 1
    cookie = cookies[0].lower()
    assert "httponly" in cookie
    assert "secure" in cookie
    assert "samesite=lax" in cookie
    assert response.location.endswith("/dashboard")
    token = cookies[0].split(";")[0].split("=", 1)[1]
    assert token not in response.text


def test_signin_wrong_password_rejected(browser, admin):
    response = sign_in(browser, admin["email"], "not the password at all", status=401)

    assert "incorrect" in response.text
    assert not [v for k, v in response.headerlist if v.startswith("promax_session=")]


def test_dashboard_requires_signin(browser):
    response = browser.get("/dashboard", status=303)

    assert response.location.endswith("/login")


def test_api_requires_signin(browser):
    response = browser.get("/api/v1/overview/sales", status=401)

    assert response.json["error"]["status"] == 401


def test_empty_tenant_dashboard(browser, admin):
    sign_in(browser, admin["email"], admin["password"])

    page = browser.get("/dashboard", status=200)
    overview = browser.get("/api/v1/overview/sales", status=200).json

    assert "No submitted sales invoices" in page.text
    assert overview["totals"] == {"revenue": "0.00", "invoices": 0}


@pytest.mark.claim("C-4.3a")
def test_login_without_csrf_rejected(browser, admin):
    browser.get("/login")
    response = browser.post(
        "/login", {"email": admin["email"], "password": admin["password"]}, status=403
    )

    assert "CSRF" in response.text


def test_logout_revokes_session(browser, admin):
    sign_in(browser, admin["email"], admin["password"])
    token = browser.cookies["promax_session"]
    csrf = browser.cookies["promax_csrf"]

    browser.post("/logout", {"csrf_token": csrf}, status=303)
    browser.set_cookie("promax_session", token)

    browser.get("/api/v1/overview/sales", status=401)
