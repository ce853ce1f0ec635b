"""Hostile input and failed services get clean answers with every header."""

import webtest
from conftest import sign_in
from test_headers import assert_security_headers

from promax import make_config


def test_home_shows_signin_form(browser):
    response = browser.get("/", status=200)

    assert 'id="login-form"' in response.text
    assert_security_headers(response)


def test_undecodable_path_is_400(browser):
    for path in ("/%FF", "/api/%C3%28", "/static/%FF.css"):
        response = browser.get(path, status=(400, 404), expect_errors=True)

        assert "Traceback" not in response.text
        assert_security_headers(response)


def test_non_utf8_form_charset_is_415(browser):
    browser.get("/login")
    csrf = browser.cookies["promax_csrf"]

    response = browser.post(
        "/login",
        f"email=a%40b.example&password=x&csrf_token={csrf}".encode(),
        content_type="application/x-www-form-urlencoded; charset=iso-8859-1",
        status=415,
    )

    assert "UTF-8" in response.text
    assert_security_headers(response)


def database_down_app(environ):
    """The same app with its database unreachable (a socket that does not exist)."""
    broken = dict(environ)
    broken["PROMAX_DATABASE_URL"] = (
        "mysql+pymysql://promax:x@localhost/promax?unix_socket=/nonexistent/mysqld.sock"
    )
    return webtest.TestApp(
        make_config(environ=broken).make_wsgi_app(),
        extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "promax.test"},
    )


def test_signin_with_database_down_is_503(environ):
    app = database_down_app(environ)
    form = app.get("/login").forms["login-form"]
    form["email"] = "admin@acme.example"
    form["password"] = "whatever it is"

    response = form.submit(status=503)

    assert response.headers["Retry-After"] == "30"
    assert "temporarily unavailable" in response.text
    assert_security_headers(response)


def test_signed_in_page_with_database_down_is_503(browser, admin, environ, memcached):
    from pymemcache.client.base import Client

    sign_in(browser, admin["email"], admin["password"])
    token = browser.cookies["promax_session"]
    # Forget cached identities, so the app must ask the database.
    Client(memcached.address).flush_all()
    app = database_down_app(environ)
    app.set_cookie("promax_session", token)

    page = app.get("/dashboard", status=503)
    api = app.get("/api/v1/overview/sales", status=503)

    assert "temporarily unavailable" in page.text
    assert "Traceback" not in page.text
    assert_security_headers(page)
    assert api.json["error"]["code"] == "service_unavailable"
