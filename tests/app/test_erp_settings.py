"""The admin ERP link settings: page, JSON API, connection test, roles and secret hygiene."""

import json
import logging

import pytest
from support.erpsim import API_KEY, API_SECRET
from support.gate import auth_headers, create_user, session_token
from support.memcached import memcached_values

from conftest import audit_count
from promax.erpsim.server import LOGGED_USER
from promax.ratelimit import SENSITIVE_PATHS

PAGE = "/admin/settings/erp"
PAGE_TEST = "/admin/settings/erp/test"
API = "/api/v1/admin/settings/erp"
API_TEST = "/api/v1/admin/settings/erp/test"


@pytest.fixture
def erp_app(app, acme, monkeypatch, tmp_path):
    """The app with organisation acme, and an ERP lock directory the web process uses."""
    monkeypatch.setenv("PROMAX_ERP_LOCK_DIR", str(tmp_path / "erp-locks"))
    return app


@pytest.fixture
def admin_token(erp_app, promax):
    return session_token(erp_app, create_user(promax, "admin")["email"])


def put_link(browser, token, url, api_key=API_KEY, api_secret=API_SECRET, status=200):
    body = {"site_url": url, "api_key": api_key, "api_secret": api_secret}
    return browser.put_json(API, body, headers=auth_headers(token), status=status)


@pytest.mark.claim("C-4.4a")
@pytest.mark.parametrize("role", ["manager", "analyst", "viewer"])
def test_non_admins_get_403(erp_app, browser, promax, environ, role):
    token = session_token(erp_app, create_user(promax, role)["email"])
    headers = auth_headers(token)
    body = {"site_url": "http://127.0.0.1:9", "api_key": API_KEY, "api_secret": API_SECRET}

    responses = {
        "GET page": browser.get(PAGE, headers=headers, expect_errors=True),
        "POST page": browser.post(PAGE, {"csrf_token": "x"}, headers=headers, expect_errors=True),
        "POST page test": browser.post(PAGE_TEST, headers=headers, expect_errors=True),
        "GET api": browser.get(API, headers=headers, expect_errors=True),
        "PUT api": browser.put_json(API, body, headers=headers, expect_errors=True),
        "POST api test": browser.post_json(API_TEST, {}, headers=headers, expect_errors=True),
    }

    for name, response in responses.items():
        assert response.status_int == 403, name
        assert response.json["error"]["code"] == "forbidden", name
    assert audit_count(environ, "erp.link_updated") == 0
    assert audit_count(environ, "erp.connection_tested") == 0


@pytest.mark.claim("C-4.4a")
def test_anonymous_rejected(erp_app, browser):
    response = browser.get(API, headers=auth_headers(), expect_errors=True)

    assert response.status_int == 401


@pytest.mark.claim("C-3.2c")
def test_api_sets_link_and_masks_key(erp_app, browser, admin_token, simulator, environ):
    empty = browser.get(API, headers=auth_headers(admin_token)).json
    created = put_link(browser, admin_token, simulator.url).json
    unchanged = put_link(browser, admin_token, simulator.url).json
    shown = browser.get(API, headers=auth_headers(admin_token))

    assert empty == {"configured": False, "site_host": None, "api_key_masked": None,
                     "error": None}
    assert created["fields_changed"] == ["site_url", "api_key", "api_secret"]
    assert unchanged["fields_changed"] == []
    assert shown.json["configured"] is True
    assert shown.json["site_host"] == "127.0.0.1"
    assert shown.json["api_key_masked"] == "\u2022" * 8 + API_KEY[-4:]
    assert API_KEY not in shown.text
    assert API_SECRET not in shown.text
    assert audit_count(environ, "erp.link_updated") == 1


@pytest.mark.claim("C-3.2c")
def test_connection_test_reports_ok(erp_app, browser, admin_token, simulator, environ):
    put_link(browser, admin_token, simulator.url)

    response = browser.post_json(API_TEST, {}, headers=auth_headers(admin_token))

    assert response.json == {"ok": True, "erp_user": LOGGED_USER, "error": None}
    assert API_SECRET not in response.text
    assert audit_count(environ, "erp.connection_tested") == 1


@pytest.mark.claim("C-3.2c")
def test_connection_test_reports_wrong_secret(erp_app, browser, admin_token, simulator):
    put_link(browser, admin_token, simulator.url, api_secret="wrong-secret-0000")

    response = browser.post_json(API_TEST, {}, headers=auth_headers(admin_token))

    assert response.json["ok"] is False
    assert "HTTP 401" in response.json["error"] or "HTTP 403" in response.json["error"]
    assert "wrong-secret-0000" not in response.text
    assert API_KEY not in response.text


def test_connection_test_without_link(erp_app, browser, admin_token):
    response = browser.post_json(API_TEST, {}, headers=auth_headers(admin_token))

    assert response.json == {"ok": False, "erp_user": None, "error": "No ERP link is set yet."}


@pytest.mark.parametrize("url, field", [
    ("ftp://127.0.0.1/", "site_url"),
    ("http://user:pw@127.0.0.1:9", "site_url"),
    ("not a url", "site_url"),
])
def test_invalid_url_rejected(erp_app, browser, admin_token, url, field):
    response = put_link(browser, admin_token, url, status=422)

    assert field in response.json["error"]["fields"]
    assert API_SECRET not in response.text


def test_unknown_body_field_rejected(erp_app, browser, admin_token, simulator):
    body = {"site_url": simulator.url, "api_key": API_KEY, "api_secret": API_SECRET,
            "extra": "x"}

    response = browser.put_json(API, body, headers=auth_headers(admin_token), status=422)

    assert "extra" in response.json["error"]["fields"]


@pytest.mark.claim("C-3.2c")
def test_page_form_sets_and_tests_link(erp_app, browser, admin_token, simulator):
    headers = {"Cookie": auth_headers(admin_token)["Cookie"]}
    form = browser.get(PAGE, headers=headers).forms["erp-settings-form"]
    form["site_url"] = simulator.url
    form["api_key"] = API_KEY
    form["api_secret"] = API_SECRET
    saved = form.submit(headers=headers, status=303)
    page = browser.get(PAGE, headers=headers)
    tested = page.forms["erp-test-form"].submit(headers=headers, status=200)

    assert saved.location.endswith(PAGE)
    assert page.html.find(id="erp-site-host").text == "127.0.0.1"
    assert page.html.find(id="erp-api-key").text == "\u2022" * 8 + API_KEY[-4:]
    assert "Connection OK" in tested.html.find(id="erp-test-result").text
    for response in (saved, page, tested):
        assert API_SECRET not in response.text
        assert API_KEY not in response.text


def test_page_form_shows_url_error(erp_app, browser, admin_token):
    headers = {"Cookie": auth_headers(admin_token)["Cookie"]}
    form = browser.get(PAGE, headers=headers).forms["erp-settings-form"]
    form["site_url"] = "http://user:pw@127.0.0.1:9"
    form["api_key"] = API_KEY
    form["api_secret"] = API_SECRET

    response = form.submit(headers=headers, status=422)

    assert "user name or password" in response.html.find(id="erp-settings-error").text
    assert API_SECRET not in response.text


@pytest.mark.claim("C-3.2c")
def test_secret_absent_from_logs_and_memcached(erp_app, browser, admin_token, simulator,
                                               memcached, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = [
        put_link(browser, admin_token, simulator.url).text,
        browser.get(API, headers=auth_headers(admin_token)).text,
        browser.post_json(API_TEST, {}, headers=auth_headers(admin_token)).text,
        browser.get(PAGE, headers={"Cookie": auth_headers(admin_token)["Cookie"]}).text,
    ]
    # A failing test too, whose error message is built from the ERP's reply.
    put_link(browser, admin_token, simulator.url, api_secret=API_SECRET + "-old")
    bodies.append(browser.post_json(API_TEST, {}, headers=auth_headers(admin_token)).text)

    log_lines = [record.getMessage() + json.dumps(record.__dict__, default=str)
                 for record in caplog.records]
    assert log_lines
    for body in bodies:
        assert API_SECRET not in body
    for line in log_lines:
        assert API_SECRET not in line
    for key, value in memcached_values(memcached.address):
        assert API_SECRET.encode() not in (value or b""), key


def test_settings_paths_are_rate_limited_as_sensitive():
    for path in (PAGE, PAGE_TEST, API, API_TEST):
        assert SENSITIVE_PATHS.search(path), path


def test_openapi_documents_settings(erp_app, browser):
    document = browser.get("/api/openapi.json").json

    operations = document["paths"][API]
    assert set(operations) >= {"get", "put"}
    assert "post" in document["paths"][API_TEST]
    schemas = json.dumps(document)
    assert "api_key_masked" in schemas
