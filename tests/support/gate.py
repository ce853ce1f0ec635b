"""Helpers for tests of the request gate: users per role, session cookies, route listing."""

import re
import secrets

from promax.auth import sessions, tokens
from promax.models.control import User
from promax.openapi import view_permission

PASSWORD = "correct horse battery staple"
ROUTE_PARAMETER = re.compile(r"\{(\w+)(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")


def create_user(promax, role, email=None):
    """Create a user of the acme organisation with the CLI; return its id and email."""
    email = email or f"{role}-{secrets.token_hex(3)}@acme.example"
    result = promax("user", "create", "--org", "acme", "--email", email, "--role", role,
                    "--password-stdin", stdin=PASSWORD + "\n")
    return {"email": email, **result}


def session_token(app, email):
    """Open a session for a user straight in the database; return its signed token.

    Tests that walk many routes use this instead of the sign-in form, so
    bcrypt and the sign-in throttle do not slow them down.
    """
    registry = app.registry
    settings = registry["promax.settings"]
    lifetime = tokens.session_lifetime(settings.session_hours)
    with registry["db.session_factory"]() as dbsession, dbsession.begin():
        user = dbsession.query(User).filter(User.email == email).one()
        session = sessions.create_session(dbsession, user, "127.0.0.1", "gate-test", lifetime)
        return tokens.issue_token(settings.jwt_secret, user.id, user.organisation_id,
                                  session.id, lifetime)


def auth_headers(token=None, ip_address="192.0.2.10"):
    """Headers for a JSON request with the session cookie (if any) and a CSRF token."""
    csrf = secrets.token_hex(32)
    cookie = f"promax_csrf={csrf}"
    if token:
        cookie += f"; promax_session={token}"
    return {"Cookie": cookie, "X-CSRF-Token": csrf, "Accept": "application/json",
            "X-Forwarded-For": ip_address}


def route_views(registry):
    """Return (route name, pattern, method, permission) for every view of every route.

    Permission is None when the view declared none. A view that accepts
    every method is listed once with method None.
    """
    introspector = registry.introspector
    patterns = {entry["introspectable"]["name"]: entry["introspectable"]["pattern"]
                for entry in introspector.get_category("routes") or ()}
    rows = []
    for entry in introspector.get_category("views") or ():
        view = entry["introspectable"]
        name = view["route_name"]
        if name is None:
            continue  # exception views, which have no route
        methods = view["request_methods"]
        if methods is None:
            methods = (None,)
        elif isinstance(methods, str):
            methods = (methods,)
        permission = view_permission(introspector, view)
        for method in methods:
            rows.append((name, patterns[name], method, permission))
    return sorted(rows, key=lambda row: (row[0], row[2] or ""))


def example_path(pattern):
    """Fill a route pattern's placeholders with values that match them."""
    path = ROUTE_PARAMETER.sub(lambda _match: secrets.token_hex(16), pattern)
    path = re.sub(r"\*\w+$", "promax.css", path)
    return path if path.startswith("/") else "/" + path
