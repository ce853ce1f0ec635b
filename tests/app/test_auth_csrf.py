"""CSRF: every unsafe method without the double-submit token is rejected with 403 and audited."""

import pytest
from conftest import sign_in
from sqlalchemy import create_engine, text

# One real route for each unsafe method, with a body it would accept.
UNSAFE_REQUESTS = [
    ("POST", "/api/v1/sessions/revoke-others", None),
    ("PUT", "/api/v1/account/password", {"current_password": "x", "new_password": "y"}),
    ("PATCH", "/api/v1/admin/organisation", {"require_2fa": True}),
    ("DELETE", "/api/v1/sessions/" + "0" * 32, None),
]



def csrf_events(environ):
    engine = create_engine(environ["PROMAX_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT detail FROM audit_events WHERE event_type = 'security.csrf_rejected'")
        ).fetchall()
    engine.dispose()
    return [row[0] for row in rows]


def send(browser, method, path, body, headers):
    if body is None:
        return getattr(browser, method.lower())(path, headers=headers, expect_errors=True)
    return getattr(browser, f"{method.lower()}_json")(path, body, headers=headers,
                                                      expect_errors=True)


@pytest.mark.claim("C-4.3a")
@pytest.mark.parametrize("method, path, body", UNSAFE_REQUESTS)
@pytest.mark.parametrize("token", ["missing", "wrong", "empty", "short"])
def test_unsafe_method_without_valid_token(browser, admin, environ, method, path, body, token):
    sign_in(browser, admin["email"], admin["password"])
    cookie = browser.cookies["promax_csrf"]
    headers = {
        "missing": {},
        "wrong": {"X-CSRF-Token": "f" * 64 if cookie != "f" * 64 else "e" * 64},
        "empty": {"X-CSRF-Token": ""},
        "short": {"X-CSRF-Token": cookie[:32]},
    }[token]

    response = send(browser, method, path, body, headers)

    assert response.status_int == 403
    assert response.json["error"]["code"] == "csrf_failed"
    events = csrf_events(environ)
    assert len(events) == 1
    assert f'"method": "{method}"' in events[0]
    # The request had no effect: the session is still live and 2FA is not required.
    browser.get("/api/v1/overview/sales", status=200)


@pytest.mark.claim("C-4.3a")
@pytest.mark.parametrize("method, path, body", UNSAFE_REQUESTS)
def test_unsafe_method_with_token_accepted(browser, admin, method, path, body):
    sign_in(browser, admin["email"], admin["password"])

    response = send(browser, method, path, body, {"X-CSRF-Token": browser.cookies["promax_csrf"]})

    # Past the CSRF check each route answers as designed: 200, a wrong password (401)
    # or an unknown session (404), but never 403.
    assert response.status_int in (200, 401, 404)


@pytest.mark.claim("C-4.3a")
def test_csrf_cookie_missing_rejected(browser, admin, environ):
    sign_in(browser, admin["email"], admin["password"])
    token = browser.cookies["promax_csrf"]
    browser.set_cookie("promax_csrf", "")

    response = browser.post("/api/v1/sessions/revoke-others", headers={"X-CSRF-Token": token},
                            expect_errors=True)

    assert response.status_int == 403
    assert len(csrf_events(environ)) == 1


@pytest.mark.claim("C-4.3a")
def test_second_factor_form_needs_csrf(browser, admin, environ):
    response = browser.post("/login/2fa", {"code": "123456"}, expect_errors=True)

    assert response.status_int == 403
    assert len(csrf_events(environ)) == 1


@pytest.mark.claim("C-4.3b")
def test_csrf_token_is_64_hex(browser):
    browser.get("/login")

    token = browser.cookies["promax_csrf"]

    assert len(token) == 64
    assert int(token, 16) >= 0
