"""The sales overview through the app: figures, tier-1 cache and invalidation."""

import pytest
from conftest import sign_in
from support.erpsim import API_KEY, API_SECRET

from promax.erpsim.expected import expected_figures


@pytest.fixture
def synced_admin(promax, admin, simulator, environ, tmp_path):
    environ["PROMAX_ERP_LOCK_DIR"] = str(tmp_path / "erp-locks")
    promax("erp", "set", "acme", "--url", simulator.url, "--api-key", API_KEY,
           "--api-secret-stdin", stdin=API_SECRET + "\n")
    return admin


def test_api_matches_simulator_after_sync(browser, synced_admin, promax, simulator):
    promax("sync", "acme")
    sign_in(browser, synced_admin["email"], synced_admin["password"])

    overview = browser.get("/api/v1/overview/sales").json

    assert overview == expected_figures(simulator.app.collections.dataset)


def test_dashboard_page_shows_figures(browser, synced_admin, promax, simulator):
    promax("sync", "acme")
    sign_in(browser, synced_admin["email"], synced_admin["password"])
    expected = expected_figures(simulator.app.collections.dataset)

    page = browser.get("/dashboard")

    assert expected["totals"]["revenue"] in page.text
    assert len(page.html.select("#revenue-by-month tbody tr")) == len(expected["revenue_by_month"])
    assert len(page.html.select("#top-customers tbody tr")) == 10
    assert "<script" not in page.text.replace("<script nonce", "")


@pytest.mark.claim("C-6.2a")
def test_sync_invalidates_cached_figures(browser, synced_admin, promax, simulator, memcached):
    sign_in(browser, synced_admin["email"], synced_admin["password"])
    before = browser.get("/api/v1/overview/sales").json
    cached = browser.get("/api/v1/overview/sales").json

    promax("sync", "acme")
    after = browser.get("/api/v1/overview/sales").json

    assert before["totals"]["invoices"] == 0
    assert cached == before
    assert after == expected_figures(simulator.app.collections.dataset)


@pytest.mark.claim("C-6.2a")
def test_cache_keys_differ_per_tenant():
    from promax.cache import TenantCache

    cache = TenantCache(client=None, ttl_seconds=60)
    first = cache.key("a" * 32, 0, "sales-overview", "role-admin", {})
    second = cache.key("b" * 32, 0, "sales-overview", "role-admin", {})

    assert first != second
    assert "tenant_" + "a" * 32 in first


def test_dashboard_works_with_memcached_down(browser, admin, environ):
    import webtest

    from promax import make_config

    environ["PROMAX_MEMCACHED_SERVER"] = "/nonexistent/memcached.sock"
    app = webtest.TestApp(make_config(environ=environ).make_wsgi_app(),
                          extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "promax.test"})
    sign_in(app, admin["email"], admin["password"])

    overview = app.get("/api/v1/overview/sales", status=200).json

    assert overview["totals"]["invoices"] == 0
