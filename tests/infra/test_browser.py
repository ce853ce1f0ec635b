"""A real browser signs in through httpd and keeps a screenshot of the dashboard.

Uses Debian's Chromium (/usr/bin/chromium) driven by Playwright; the
screenshot is written to build/artifacts/ for people to look at.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

HTTPS_URL = os.environ.get("PROMAX_HTTPS_URL", "https://127.0.0.1:18443")
CHROMIUM = os.environ.get("PROMAX_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"
DEMO_LOGIN_FILE = "/etc/promax/demo-admin.json"

# Flags for a headless Chromium as root on a machine with no outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def demo_login(host):
    with host.sudo():
        return json.loads(host.file(DEMO_LOGIN_FILE).content_string)


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package (make test-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            ignore_https_errors=True,  # the test host's certificate is self-signed
            viewport={"width": 1280, "height": 1400},
        )
        page = context.new_page()
        yield page
        context.close()


@pytest.mark.claim("C-4.1c", "C-7.1b")
def test_browser_signs_in_and_sees_dashboard(browser_page, demo_login):
    page = browser_page
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(f"{HTTPS_URL}/")
    page.fill("#email", demo_login["email"])
    page.fill("#password", demo_login["password"])
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{HTTPS_URL}/dashboard")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    assert page.locator("h1").inner_text() == "Sales overview"
    assert page.locator("#revenue-by-month tbody tr").count() == 24
    assert page.locator("#top-customers tbody tr").count() == 10
    # The session cookie is HttpOnly, so page scripts cannot read it.
    assert "promax_session" not in page.evaluate("document.cookie")
    assert errors == []
