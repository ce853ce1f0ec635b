"""Every route of the route table, with every role and without a session.

The table below states, from the security policy's role table, which
roles reach a view of each permission. The tests read the routes from
Pyramid's introspector, so routes added later are checked without editing
this file, and a route whose view declares no permission makes them fail.
"""

from dataclasses import replace

import pytest
from pyramid.security import NO_PERMISSION_REQUIRED
from support.gate import auth_headers, create_user, example_path, route_views, session_token

ROLES = ("admin", "manager", "analyst", "viewer")
EVERYONE = frozenset(ROLES)
ANONYMOUS = "anonymous"

# Which roles a view of each permission admits, before any per-user or
# per-department change. Analysts and viewers see only tabs assigned to them.
EXPECTED_ACCESS = {
    NO_PERMISSION_REQUIRED: EVERYONE | {ANONYMOUS},
    "signed-in": EVERYONE,
    "account.enrol": EVERYONE,
    "organisation.security": frozenset({"admin"}),
    "organisation.users": frozenset({"admin"}),
    "organisation.settings": frozenset({"admin"}),
    "tab.sales-overview": frozenset({"admin", "manager"}),
    # Export needs the tab and the Export feature; analysts have the feature
    # but no tab until one is assigned.
    "export.sales-overview": frozenset({"admin", "manager"}),
}

# Routes whose view changes the session, walked last so the rest see it live.
WALK_LAST = ("logout",)


def undeclared_permissions(registry):
    """Return the views that declare no permission or one missing from EXPECTED_ACCESS."""
    return [
        f"{method or 'ANY'} {pattern} (route {name}): permission {permission!r}"
        for name, pattern, method, permission in route_views(registry)
        if permission not in EXPECTED_ACCESS
    ]


def is_denied(response):
    """Return True when the security policy rejected the request (the forbidden view responded)."""
    if response.status_int not in (401, 403):
        return False
    if response.content_type != "application/json":
        return False
    return response.json["error"]["code"] in ("not_authenticated", "forbidden")


@pytest.mark.claim("C-4.4a")
def test_every_view_declares_known_permission(app):
    assert route_views(app.registry), "the introspector lists no views"

    assert undeclared_permissions(app.registry) == []


@pytest.mark.claim("C-4.4a")
def test_route_without_permission_is_flagged(app, environ, admin):
    import webtest

    from promax import make_config

    config = make_config(environ=environ)
    config.add_route("late_addition", "/late-addition")
    config.add_view(lambda request: {"ok": True}, route_name="late_addition", renderer="json")
    app = config.make_wsgi_app()
    browser = webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https",
                                                  "HTTP_HOST": "promax.test"})
    token = session_token(app, admin["email"])

    flagged = undeclared_permissions(app.registry)
    response = browser.get("/late-addition", headers=auth_headers(token), expect_errors=True)

    assert flagged == ["ANY /late-addition (route late_addition): permission None"]
    assert response.status_int == 403


@pytest.fixture
def tokens_by_role(app, promax, admin):
    tokens = {"admin": session_token(app, admin["email"])}
    for role in ("manager", "analyst", "viewer"):
        user = create_user(promax, role)
        tokens[role] = session_token(app, user["email"])
    return tokens


@pytest.mark.claim("C-4.4a")
@pytest.mark.parametrize("role", (ANONYMOUS,) + ROLES)
def test_route_access_per_role(app, browser, tokens_by_role, role, monkeypatch):
    # An admin walks more password, 2FA and settings routes than the per-user
    # limit of 15 a minute allows; test_ratelimit.py checks that limit.
    rules = app.registry["rate_limiter"].rules
    monkeypatch.setitem(rules, "sensitive", replace(rules["sensitive"], per_user=1000))
    token = tokens_by_role.get(role)
    rows = sorted(route_views(app.registry), key=lambda row: row[0] in WALK_LAST)
    mismatches = []

    for index, (name, pattern, method, permission) in enumerate(rows):
        method = method or "GET"
        if method == "HEAD":
            continue
        expected_allowed = role in EXPECTED_ACCESS[permission]
        headers = auth_headers(token, ip_address=f"198.51.100.{index % 250 + 1}")
        body = b"{}" if method in ("POST", "PUT", "PATCH", "DELETE") else None
        response = browser.request(example_path(pattern), method=method, headers=headers,
                                   body=body, content_type="application/json" if body else None,
                                   expect_errors=True)
        if response.status_int == 429:
            mismatches.append(f"{method} {pattern}: rate limited during the walk")
            continue
        allowed = not is_denied(response)
        if allowed != expected_allowed:
            mismatches.append(f"{method} {pattern} ({permission}): expected "
                              f"{'allowed' if expected_allowed else 'denied'}, got "
                              f"{response.status_int}")

    assert mismatches == []


@pytest.mark.claim("C-4.4b")
def test_assigned_tab_opens_for_viewer(app, browser, promax, admin):
    viewer = create_user(promax, "viewer")
    admin_headers = auth_headers(session_token(app, admin["email"]))
    viewer_token = session_token(app, viewer["email"])

    before = browser.get("/api/v1/overview/sales", headers=auth_headers(viewer_token),
                         expect_errors=True)
    browser.put_json(f"/api/v1/admin/users/{viewer['id']}/permissions",
                     {"permissions": {"tab.sales-overview": True}}, headers=admin_headers)
    after = browser.get("/api/v1/overview/sales", headers=auth_headers(viewer_token),
                        expect_errors=True)

    assert before.status_int == 403
    assert after.status_int == 200


@pytest.mark.claim("C-4.4b")
def test_department_grants_tab_and_withdrawal_wins(app, browser, promax, admin):
    analyst = create_user(promax, "analyst")
    admin_headers = auth_headers(session_token(app, admin["email"]))
    analyst_headers = auth_headers(session_token(app, analyst["email"]))
    department = browser.post_json("/api/v1/admin/departments",
                                   {"name": "Finance", "permissions": ["tab.sales-overview"]},
                                   headers=admin_headers).json

    browser.patch_json(f"/api/v1/admin/users/{analyst['id']}",
                       {"department_id": department["id"]}, headers=admin_headers)
    granted = browser.get("/api/v1/overview/sales", headers=analyst_headers, expect_errors=True)
    browser.put_json(f"/api/v1/admin/users/{analyst['id']}/permissions",
                     {"permissions": {"tab.sales-overview": False}}, headers=admin_headers)
    withdrawn = browser.get("/api/v1/overview/sales", headers=analyst_headers, expect_errors=True)

    assert granted.status_int == 200
    assert withdrawn.status_int == 403


@pytest.mark.claim("C-4.4a")
def test_role_change_applies_on_next_request(app, browser, promax, admin):
    manager = create_user(promax, "manager")
    admin_headers = auth_headers(session_token(app, admin["email"]))
    manager_headers = auth_headers(session_token(app, manager["email"]))

    before = browser.get("/api/v1/overview/sales", headers=manager_headers, expect_errors=True)
    browser.patch_json(f"/api/v1/admin/users/{manager['id']}", {"role": "viewer"},
                       headers=admin_headers)
    after = browser.get("/api/v1/overview/sales", headers=manager_headers, expect_errors=True)

    assert before.status_int == 200
    assert after.status_int == 403


def test_admin_cannot_demote_self(app, browser, admin):
    headers = auth_headers(session_token(app, admin["email"]))

    response = browser.patch_json(f"/api/v1/admin/users/{admin['id']}", {"role": "viewer"},
                                  headers=headers, expect_errors=True)

    assert response.status_int == 422
    assert "role" in response.json["error"]["fields"]


def test_admin_pages_render(app, browser, promax, admin):
    headers = auth_headers(session_token(app, admin["email"]))
    headers["Accept"] = "text/html"

    users = browser.get("/admin/users", headers=headers)
    user = browser.get(f"/admin/users/{admin['id']}", headers=headers)
    departments = browser.get("/admin/departments", headers=headers)

    assert admin["email"] in users.text
    assert "perm:feature.export" in user.text
    assert "department-create-form" in departments.text


@pytest.mark.claim("C-4.4b")
def test_export_needs_tab_and_feature(app, browser, promax, admin):
    analyst = create_user(promax, "analyst")
    viewer = create_user(promax, "viewer")
    admin_headers = auth_headers(session_token(app, admin["email"]))
    analyst_headers = auth_headers(session_token(app, analyst["email"]))
    viewer_headers = auth_headers(session_token(app, viewer["email"]))
    url = "/api/v1/overview/sales/export.csv"

    for user in (analyst, viewer):
        browser.put_json(f"/api/v1/admin/users/{user['id']}/permissions",
                         {"permissions": {"tab.sales-overview": True}}, headers=admin_headers)
    analyst_export = browser.get(url, headers=analyst_headers, expect_errors=True)
    viewer_export = browser.get(url, headers=viewer_headers, expect_errors=True)
    browser.put_json(f"/api/v1/admin/users/{viewer['id']}/permissions",
                     {"permissions": {"tab.sales-overview": True, "feature.export": True}},
                     headers=admin_headers)
    granted_export = browser.get(url, headers=viewer_headers, expect_errors=True)

    assert analyst_export.status_int == 200
    assert analyst_export.content_type == "text/csv"
    assert analyst_export.text.startswith("month,revenue,invoices,currency\r\n")
    assert viewer_export.status_int == 403
    assert granted_export.status_int == 200


@pytest.mark.claim("C-4.4b")
def test_admin_forms_change_permissions(app, browser, promax, admin):
    viewer = create_user(promax, "viewer")
    headers = auth_headers(session_token(app, admin["email"]))
    headers["Accept"] = "text/html"
    csrf = headers["X-CSRF-Token"]

    browser.post("/admin/departments", {"name": "Sales", "permissions": "tab.sales-overview",
                                        "csrf_token": csrf}, headers=headers, status=303)
    department = browser.get("/api/v1/admin/departments",
                             headers=auth_headers(session_token(app, admin["email"])))
    department_id = department.json["departments"][0]["id"]
    browser.post(f"/admin/users/{viewer['id']}", {
        "display_name": "Vera Viewer", "role": "viewer", "department_id": department_id,
        "is_active": "on", "perm:feature.export": "grant", "csrf_token": csrf,
    }, headers=headers, status=303)
    user = browser.get(f"/api/v1/admin/users/{viewer['id']}",
                       headers=auth_headers(session_token(app, admin["email"]))).json

    assert user["department_id"] == department_id
    assert user["display_name"] == "Vera Viewer"
    assert user["permission_changes"] == {"feature.export": True}
    assert "tab.sales-overview" in user["permissions"]
    assert "feature.export" in user["permissions"]
