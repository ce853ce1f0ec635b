"""The appliance seen from outside: sign in through httpd and read the figures.

These tests run on the controller against the ports the test host publishes
(PROMAX_HTTPS_URL and PROMAX_HTTP_URL), and read the demo login from the
host through testinfra, as an operator would.
"""

import json
import os
import re

import pytest
import requests
import urllib3

from promax.erpsim.dataset import build_dataset
from promax.erpsim.expected import expected_figures

HTTPS_URL = os.environ.get("PROMAX_HTTPS_URL", "https://127.0.0.1:18443")
HTTP_URL = os.environ.get("PROMAX_HTTP_URL", "http://127.0.0.1:18080")
DEMO_LOGIN_FILE = "/etc/promax/demo-admin.json"

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


@pytest.fixture(scope="module")
def demo_login(host):
    with host.sudo():
        return json.loads(host.file(DEMO_LOGIN_FILE).content_string)


def new_session():
    """Return a session that accepts the test host's self-signed certificate.

    trust_env is off because REQUESTS_CA_BUNDLE in the environment would
    otherwise override verify=False.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = False
    return session


def sign_in(email, password):
    """Sign in through the form like a browser; return the requests session."""
    session = new_session()

    page = session.get(f"{HTTPS_URL}/login", timeout=10)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)

    response = session.post(
        f"{HTTPS_URL}/login",
        data={"email": email, "password": password, "csrf_token": csrf},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text[:500]
    return session


@pytest.mark.parametrize("path", ["/", "/login"])
def test_https_serves_signin_page(path):
    # The URL that make demo prints is the site root, so it must show the form itself.
    response = new_session().get(f"{HTTPS_URL}{path}", timeout=10)

    assert response.status_code == 200
    assert response.history == []
    assert 'id="login-form"' in response.text


@pytest.mark.claim("C-2.4b")
@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/overview/sales", "/no/such/page?q=1"])
def test_http_redirects_to_https(path):
    response = new_session().get(f"{HTTP_URL}{path}", allow_redirects=False, timeout=10)

    assert response.status_code in (301, 308)
    assert response.headers["Location"].startswith("https://")
    assert response.headers["Location"].endswith(path)


@pytest.mark.claim("C-2.2a")
def test_https_response_has_hsts():
    response = new_session().get(f"{HTTPS_URL}/login", timeout=10)

    hsts = response.headers["Strict-Transport-Security"]
    assert "includeSubDomains" in hsts
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000


def test_sales_overview_matches_simulator(demo_login):
    session = sign_in(demo_login["email"], demo_login["password"])

    response = session.get(f"{HTTPS_URL}/api/v1/overview/sales", timeout=30)
    expected = expected_figures(build_dataset())

    assert response.status_code == 200
    overview = response.json()
    assert overview["totals"] == expected["totals"]
    assert overview["revenue_by_month"] == expected["revenue_by_month"]
    assert overview["top_customers"] == expected["top_customers"]
    assert overview["currency"] == expected["currency"]


@pytest.mark.claim("C-4.1c")
def test_session_cookie_flags_through_httpd(demo_login):
    session = new_session()
    page = session.get(f"{HTTPS_URL}/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)

    response = session.post(
        f"{HTTPS_URL}/login",
        data={"email": demo_login["email"], "password": demo_login["password"],
              "csrf_token": csrf},
        allow_redirects=False,
        timeout=30,
    )

    set_cookie = response.headers["Set-Cookie"].lower()
    assert "promax_session=" in set_cookie
    assert "httponly" in set_cookie
    assert "secure" in set_cookie
    assert "samesite=lax" in set_cookie
