"""Security headers on every kind of response the app produces."""

import re

import pytest
import webtest
from conftest import sign_in
from support.gate import auth_headers, session_token

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
        ("GET", "/", 200),
        ("GET", "/dashboard", 303),
        ("GET", "/api/v1/overview/sales", 401),
        ("GET", "/no/such/page", 404),
        ("POST", "/login", 403),
        ("DELETE", "/login", 405),
        ("PUT", "/api/v1/sessions", 405),
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


def test_405_lists_allowed_methods(browser):
    response = browser.request("/login", method="DELETE", status=405)

    assert response.headers["Allow"] == "GET, HEAD, POST"
    assert_security_headers(response)


@pytest.mark.claim("C-2.2a", "C-2.2c", "C-2.2d", "C-2.2e", "C-2.2f")
def test_headers_on_signed_in_errors(app, browser, promax, admin):
    from support.gate import create_user

    viewer = create_user(promax, "viewer")
    admin_headers = auth_headers(session_token(app, admin["email"]))
    viewer_headers = auth_headers(session_token(app, viewer["email"]))

    responses = {
        200: browser.get("/api/v1/sessions", headers=admin_headers),
        400: browser.patch("/api/v1/admin/organisation", b"{", headers=admin_headers,
                           content_type="application/json", status=400),
        403: browser.get("/api/v1/overview/sales", headers=viewer_headers, status=403),
        422: browser.patch_json("/api/v1/admin/organisation", {"require_2fa": "on"},
                                headers=admin_headers, status=422),
    }

    for status, response in responses.items():
        assert response.status_int == status
        assert_security_headers(response)


@pytest.mark.claim("C-2.2a", "C-5.1c")
def test_headers_on_429(environ, app):
    from promax import make_config

    client = webtest.TestApp(
        make_config(environ={**environ, "PROMAX_RATE_LIMIT_PER_IP": "1"}).make_wsgi_app(),
        extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "promax.test"},
    )
    client.get("/login", headers={"X-Forwarded-For": "203.0.113.90"})

    response = client.get("/login", headers={"X-Forwarded-For": "203.0.113.90"}, status=429)

    assert_security_headers(response)
    assert response.headers["Retry-After"]
    assert "Content-Security-Policy" in response.headers


@pytest.mark.claim("C-2.2b")
def test_error_pages_get_fresh_nonces(browser):
    nonces = set()
    for path in ("/login", "/login", "/no/such/page", "/no/such/page"):
        response = browser.get(path, expect_errors=True)
        policy = response.headers["Content-Security-Policy"]
        nonces.add(re.search(r"'nonce-([^']+)'", policy).group(1))

    assert len(nonces) == 4


def test_static_file_has_headers_and_no_csp_need(browser):
    response = browser.get("/static/promax.css")

    assert_security_headers(response)
    assert response.content_type == "text/css"


def test_pages_load_only_own_assets(browser):
    page = browser.get("/login")
    urls = [tag.get("src") or tag.get("href") for tag in page.html.find_all(["script", "link", "img"])]

    assert urls
    for url in urls:
        assert url.startswith("https://promax.test/static/"), url
        asset = browser.get(url.removeprefix("https://promax.test"))
        assert asset.status_int == 200, url
        assert_security_headers(asset)


@pytest.mark.claim("C-8.1c")
def test_request_id_in_every_log_line(browser, caplog):
    import io
    import json
    import logging

    from promax.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = browser.get("/no/such/page", status=404)
    finally:
        root.removeHandler(handler)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines
    assert {line.get("request_id") for line in lines} == {response.headers["X-Request-Id"]}
    request_line = next(line for line in lines if line["logger"] == "promax.request")
    assert request_line["level"] == "warning"


@pytest.mark.claim("C-2.3a")
def test_cors_wildcard_rejected_in_production(environ):
    from promax.config import ConfigurationError, load_settings

    with pytest.raises(ConfigurationError, match="wildcard"):
        load_settings(environ={**environ, "PROMAX_CORS_ORIGINS": "*"})


@pytest.fixture
def cors_client(environ, app):
    from promax import make_config

    settings = {**environ, "PROMAX_CORS_ORIGINS": "https://reports.example.com"}
    return webtest.TestApp(make_config(environ=settings).make_wsgi_app(),
                           extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "promax.test"})


@pytest.mark.claim("C-2.3a", "C-2.3b")
def test_cors_allowed_origin_gets_credentials(cors_client):
    response = cors_client.get("/healthz", headers={"Origin": "https://reports.example.com"})
    preflight = cors_client.options("/api/v1/sessions", headers={
        "Origin": "https://reports.example.com", "Access-Control-Request-Method": "DELETE"})

    assert response.headers["Access-Control-Allow-Origin"] == "https://reports.example.com"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]
    assert preflight.status_int == 204
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
    assert_security_headers(preflight)


@pytest.mark.claim("C-2.3a", "C-2.3b", "C-2.3c")
def test_cors_rejected_origin_logged(cors_client, caplog):
    response = cors_client.get("/healthz", headers={"Origin": "https://evil.example"})
    preflight = cors_client.options("/api/v1/sessions", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        expect_errors=True)

    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert preflight.status_int == 403
    rejected = [r for r in caplog.records if r.getMessage() == "cross-origin request rejected"]
    assert rejected
    assert all(r.levelname == "WARNING" for r in rejected)
    assert rejected[0].origin == "https://evil.example"


def test_same_origin_request_not_logged(cors_client, caplog):
    cors_client.get("/healthz", headers={"Origin": "https://promax.test"})

    assert not [r for r in caplog.records if r.getMessage() == "cross-origin request rejected"]


@pytest.mark.claim("C-8.1c")
def test_server_error_logged_at_error(browser, admin, monkeypatch, caplog):
    sign_in(browser, admin["email"], admin["password"])

    def explode(_connection):
        raise RuntimeError("boom in figures")

    monkeypatch.setattr("promax.dashboard.views.sales_overview", explode)
    response = browser.get("/api/v1/overview/sales", status=500)

    request_lines = [r for r in caplog.records if r.name == "promax.request"]
    assert request_lines[-1].levelname == "ERROR"
    assert request_lines[-1].request_id == response.headers["X-Request-Id"]
    assert response.json["request_id"] == response.headers["X-Request-Id"]
