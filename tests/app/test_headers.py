"""Security headers on every kind of response the app produces."""

import re

import pytest
from conftest import sign_in

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def assert_security_headers(response):
    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert "includeSubDomains" in hsts
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions
    assert response.headers["X-Request-Id"]


@pytest.mark.claim("C-2.2a", "C-2.2c", "C-2.2d", "C-2.2e", "C-2.2f")
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/login", 200),
        ("GET", "/", 303),
        ("GET", "/dashboard", 303),
        ("GET", "/api/v1/overview/sales", 401),
        ("GET", "/no/such/page", 404),
        ("POST", "/login", 403),
        ("DELETE", "/login", 404),
        ("GET", "/static/promax.css", 200),
        ("GET", "/healthz", 200),
    ],
)
def test_headers_on_every_response(browser, method, path, status):
    response = browser.request(path, method=method, status=status, expect_errors=True)

    assert_security_headers(response)


@pytest.mark.claim("C-2.2b", "C-2.2d")
def test_html_csp_has_fresh_nonce(browser):
    first = browser.get("/login").headers["Content-Security-Policy"]
    second = browser.get("/login").headers["Content-Security-Policy"]

    nonce_first = re.search(r"'nonce-([^']+)'", first).group(1)
    nonce_second = re.search(r"'nonce-([^']+)'", second).group(1)
    assert nonce_first != nonce_second
    assert "unsafe-inline" not in first
    assert "unsafe-eval" not in first
    assert "frame-ancestors 'none'" in first
    assert "object-src 'none'" in first
    assert "base-uri 'none'" in first


@pytest.mark.claim("C-2.2b")
def test_dashboard_page_has_csp(browser, admin):
    sign_in(browser, admin["email"], admin["password"])

    response = browser.get("/dashboard")

    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]
    assert_security_headers(response)


def test_server_error_has_no_traceback(browser, admin, monkeypatch):
    sign_in(browser, admin["email"], admin["password"])

    def explode(_connection):
        raise RuntimeError("boom in figures")

    monkeypatch.setattr("promax.dashboard.views.sales_overview", explode)
    response = browser.get("/api/v1/overview/sales", status=500)

    assert_security_headers(response)
    assert response.json["error"]["status"] == 500
    assert "boom" not in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/login", b"email=%E9%E9&password=x&csrf_token=" + b"0" * 64),
        ("/login?next=%E9", b"email=a"),
    ],
)
def test_undecodable_input_is_400(browser, path, body):
    browser.get("/login")
    response = browser.post(
        path, body, content_type="application/x-www-form-urlencoded", status=(400, 403)
    )

    assert "Traceback" not in response.text
    assert_security_headers(response)
