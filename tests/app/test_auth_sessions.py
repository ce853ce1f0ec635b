"""Session list, revocation by the user and by admins, and password change."""

import pytest
import webtest
from conftest import audit_count, sign_in

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
DESKTOP_CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")



def client(app, user_agent, ip="192.0.2.10"):
    return webtest.TestApp(app, extra_environ={
        "wsgi.url_scheme": "https", "HTTP_HOST": "promax.test",
        "HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": ip,
    })


def csrf(browser):
    return {"X-CSRF-Token": browser.cookies["promax_csrf"]}


@pytest.fixture
def two_devices(app, admin):
    phone = client(app, IPHONE, "198.51.100.7")
    laptop = client(app, DESKTOP_CHROME, "192.0.2.10")
    sign_in(phone, admin["email"], admin["password"])
    sign_in(laptop, admin["email"], admin["password"])
    return phone, laptop


@pytest.mark.claim("C-7.3a")
def test_session_list_shows_devices(two_devices):
    _phone, laptop = two_devices

    listed = laptop.get("/api/v1/sessions", status=200).json["sessions"]

    by_device = {s["device_type"]: s for s in listed}
    assert set(by_device) == {"mobile", "desktop"}
    assert by_device["mobile"]["browser"] == "Safari"
    assert by_device["mobile"]["ip_address"] == "198.51.100.7"
    assert by_device["desktop"]["browser"] == "Chrome"
    assert by_device["desktop"]["current"] is True
    assert by_device["mobile"]["current"] is False
    assert by_device["desktop"]["last_seen_at"].endswith("Z")
    page = laptop.get("/account/sessions", status=200)
    assert "198.51.100.7" in page.text
    assert "promax-forms.js" in page.text


@pytest.mark.claim("C-7.3b", "C-4.1d")
def test_revoke_one_session(two_devices, environ):
    phone, laptop = two_devices
    phone_id = [s["id"] for s in laptop.get("/api/v1/sessions").json["sessions"]
                if not s["current"]][0]

    laptop.delete(f"/api/v1/sessions/{phone_id}", headers=csrf(laptop), status=200)

    phone.get("/api/v1/overview/sales", status=401)
    laptop.get("/api/v1/overview/sales", status=200)
    assert audit_count(environ, "session.revoked") == 1


@pytest.mark.claim("C-7.3b")
def test_revoke_other_sessions_form(two_devices):
    phone, laptop = two_devices

    laptop.get("/account/sessions").forms["revoke-others-form"].submit(status=303)

    phone.get("/api/v1/overview/sales", status=401)
    laptop.get("/api/v1/overview/sales", status=200)
    assert len(laptop.get("/api/v1/sessions").json["sessions"]) == 1


@pytest.mark.claim("C-7.3b")
def test_revoke_foreign_session_not_found(app, admin, promax, environ):
    promax("user", "create", "--org", "acme", "--email", "viewer@acme.example", "--role",
           "viewer", "--password-stdin", stdin="a viewer passphrase\n")
    viewer = client(app, DESKTOP_CHROME)
    sign_in(viewer, "viewer@acme.example", "a viewer passphrase")
    admin_browser = client(app, DESKTOP_CHROME)
    sign_in(admin_browser, admin["email"], admin["password"])
    admin_session = admin_browser.get("/api/v1/sessions").json["sessions"][0]["id"]

    viewer.delete(f"/api/v1/sessions/{admin_session}", headers=csrf(viewer), status=404)

    admin_browser.get("/api/v1/overview/sales", status=200)
    assert audit_count(environ, "session.revoke_rejected") == 1


@pytest.mark.claim("C-7.3c")
def test_admin_revokes_member_session(app, admin, promax, environ):
    promax("user", "create", "--org", "acme", "--email", "viewer@acme.example", "--role",
           "viewer", "--password-stdin", stdin="a viewer passphrase\n")
    viewer = client(app, IPHONE)
    sign_in(viewer, "viewer@acme.example", "a viewer passphrase")
    admin_browser = client(app, DESKTOP_CHROME)
    sign_in(admin_browser, admin["email"], admin["password"])

    listed = admin_browser.get("/api/v1/admin/sessions").json["sessions"]
    target = [s for s in listed if s["email"] == "viewer@acme.example"][0]
    admin_browser.delete(f"/api/v1/admin/sessions/{target['id']}", headers=csrf(admin_browser),
                         status=200)

    viewer.get("/api/v1/overview/sales", status=401)
    assert audit_count(environ, "session.revoked_by_admin") == 1


@pytest.mark.claim("C-7.3c")
def test_admin_cannot_revoke_other_org(app, admin, promax, environ):
    promax("tenant", "create", "globex", "--name", "Globex")
    promax("user", "create", "--org", "globex", "--email", "admin@globex.example", "--role",
           "admin", "--password-stdin", stdin="globex admin passphrase\n")
    other = client(app, DESKTOP_CHROME)
    sign_in(other, "admin@globex.example", "globex admin passphrase")
    other_session = other.get("/api/v1/sessions").json["sessions"][0]["id"]
    admin_browser = client(app, DESKTOP_CHROME)
    sign_in(admin_browser, admin["email"], admin["password"])

    admin_browser.delete(f"/api/v1/admin/sessions/{other_session}", headers=csrf(admin_browser),
                         status=404)
    listed = admin_browser.get("/api/v1/admin/sessions").json["sessions"]

    other.get("/api/v1/overview/sales", status=200)
    assert other_session not in {s["id"] for s in listed}
    assert audit_count(environ, "session.admin_revoke_rejected") == 1


def test_non_admin_cannot_list_org_sessions(app, admin, promax):
    promax("user", "create", "--org", "acme", "--email", "viewer@acme.example", "--role",
           "viewer", "--password-stdin", stdin="a viewer passphrase\n")
    viewer = client(app, DESKTOP_CHROME)
    sign_in(viewer, "viewer@acme.example", "a viewer passphrase")

    viewer.get("/api/v1/admin/sessions", status=403)
    viewer.get("/admin/security", status=403)


@pytest.mark.claim("C-7.3d", "C-4.1d")
def test_password_change_revokes_other_sessions(two_devices, admin, environ):
    phone, laptop = two_devices
    form = laptop.get("/account/password").forms["password-form"]
    form["current_password"] = admin["password"]
    form["new_password"] = "a brand new passphrase"
    form["confirm_password"] = "a brand new passphrase"

    response = form.submit(status=303)

    assert "changed=1" in response.location
    phone.get("/api/v1/overview/sales", status=401)
    laptop.get("/api/v1/overview/sales", status=200)
    assert len(laptop.get("/api/v1/sessions").json["sessions"]) == 1
    assert audit_count(environ, "auth.password_changed") == 1
    laptop.reset()
    sign_in(laptop, admin["email"], "a brand new passphrase")
    laptop.reset()
    sign_in(laptop, admin["email"], admin["password"], status=401)


@pytest.mark.claim("C-7.3d")
def test_password_change_api(two_devices, admin):
    phone, laptop = two_devices

    laptop.put_json("/api/v1/account/password",
                    {"current_password": admin["password"], "new_password": "another passphrase 2"},
                    headers=csrf(laptop), status=200)

    phone.get("/api/v1/overview/sales", status=401)
    laptop.get("/api/v1/overview/sales", status=200)


@pytest.mark.parametrize("current, new, status, message", [
    ("wrong current password", "a brand new passphrase", 401, "current password is incorrect"),
    (None, "short", 400, "too short"),
    (None, "password12345", 400, "commonly used"),
    (None, "x" * 73, 400, "too long"),
])
def test_password_change_rejections(browser, admin, environ, current, new, status, message):
    sign_in(browser, admin["email"], admin["password"])
    form = browser.get("/account/password").forms["password-form"]
    form["current_password"] = current or admin["password"]
    form["new_password"] = new
    form["confirm_password"] = new

    response = form.submit(status=status)

    assert message in response.text
    browser.get("/api/v1/overview/sales", status=200)
    assert audit_count(environ, "auth.password_change_failed") == 1


@pytest.mark.claim("C-4.1d")
def test_logout_revokes_only_current(two_devices):
    phone, laptop = two_devices

    laptop.post("/logout", {"csrf_token": laptop.cookies["promax_csrf"]}, status=303)

    phone.get("/api/v1/overview/sales", status=200)
    assert len(phone.get("/api/v1/sessions").json["sessions"]) == 1
