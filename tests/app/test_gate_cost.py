"""Round trips of a warm, signed-in request for cached tab data.

Memcached calls are counted on a wrapper around the app's pymemcache
client; a call waits for a reply unless it is sent with noreply. MariaDB
statements are counted with SQLAlchemy's before_cursor_execute event on
every engine.
"""

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from support.gate import auth_headers, session_token

STORAGE_COMMANDS = {"set", "set_many", "add", "replace", "append", "prepend", "delete",
                    "delete_many", "touch"}


class CountingClient:
    """Wrap a pymemcache client and record each call as (name, waited for reply)."""

    def __init__(self, client):
        self.client = client
        self.calls = []

    def __getattr__(self, name):
        method = getattr(self.client, name)
        if not callable(method):
            return method

        def call(*args, **kwargs):
            noreply = kwargs.get("noreply")
            if noreply is None:
                noreply = name in STORAGE_COMMANDS and self.client.default_noreply
            self.calls.append((name, not noreply))
            return method(*args, **kwargs)

        return call

    def round_trips(self):
        return [name for name, waited in self.calls if waited]


@pytest.fixture
def statements():
    executed = []

    def count(_connection, _cursor, statement, *_args):
        executed.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    yield executed
    event.remove(Engine, "before_cursor_execute", count)


@pytest.mark.claim("C-6.2a")
def test_warm_tab_request_round_trips(app, browser, admin, memcached, statements):
    headers = auth_headers(session_token(app, admin["email"]))
    for _ in range(2):  # fill the identity, the tab value and the rate counters
        browser.get("/api/v1/overview/sales", headers=headers, status=200)

    cache = app.registry["cache"]
    counting = CountingClient(cache.client)
    cache.client = counting
    statements.clear()
    response = browser.get("/api/v1/overview/sales", headers=headers, status=200)

    assert response.json["totals"]["invoices"] == 0
    assert counting.round_trips() == ["get_many", "get"]
    assert statements == []
    # The rate counters are incremented without waiting for a reply.
    assert [name for name, waited in counting.calls if not waited] == ["incr", "incr"]


def test_revocation_ends_cached_session(app, browser, admin, memcached):
    token = session_token(app, admin["email"])
    headers = auth_headers(token)
    browser.get("/api/v1/sessions", headers=headers, status=200)  # now cached
    other = auth_headers(session_token(app, admin["email"]))

    sessions = browser.get("/api/v1/sessions", headers=other).json["sessions"]
    target = next(s["id"] for s in sessions if not s["current"])
    browser.delete(f"/api/v1/sessions/{target}", headers=other, status=200)

    browser.get("/api/v1/sessions", headers=headers, status=401)


def test_revocation_without_memcached_logged(app, browser, admin, memcached, caplog):
    from promax.auth.session_cache import drop_stale_identities

    class Broken:
        def delete_many(self, keys, noreply=False):
            raise OSError("connection refused")

    drop_stale_identities(Broken(), {"a" * 32})

    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "may stay cached" in errors[0].getMessage()
