"""Headless Chromium enrols 2FA from the enrolment page and then signs in with it.

The app runs under gunicorn with a self-signed certificate on 127.0.0.1, so
the Secure cookies travel as they do behind httpd. The browser reads the
setup key and the otpauth URI from the page; the test checks that the QR
image encodes that same URI by rendering it again with segno.
"""

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import segno

from promax.auth import twofactor

CHROMIUM = os.environ.get("PROMAX_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def self_signed_certificate(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def https_app(app, environ, admin, tmp_path):
    """Run the app under gunicorn over TLS on an ephemeral port; yield its base URL."""
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--certfile", str(cert), "--keyfile", str(key), "promax.wsgi:application"],
            env={**os.environ, **environ}, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail("gunicorn did not listen within 30 s")
    yield f"https://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def page(tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=True,
                                      viewport={"width": 1100, "height": 1200})
        yield context.new_page()
        context.close()
        browser.close()


def sign_in_with_password(page, base, admin):
    page.goto(f"{base}/login")
    page.fill("#email", admin["email"])
    page.fill("#password", admin["password"])
    page.click("#login-form button[type=submit]")


@pytest.mark.claim("C-4.2a", "C-4.2b", "C-4.2c", "C-4.2d", "C-4.1c")
def test_browser_enrols_and_signs_in(https_app, page, admin):
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    base = https_app

    sign_in_with_password(page, base, admin)
    page.wait_for_url(f"{base}/dashboard")
    page.goto(f"{base}/account/security")
    page.click("#enrol-start-form button[type=submit]")
    page.wait_for_url(f"{base}/account/2fa/enrol")

    secret = page.locator("#totp-secret").inner_text().strip()
    uri = page.locator("#otpauth-uri").get_attribute("data-otpauth-uri")
    qr_src = page.locator("#totp-qr").get_attribute("src")
    assert parse_qs(urlparse(uri).query)["secret"] == [secret]
    assert qr_src == segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    assert qr_src == twofactor.qr_data_uri(uri)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "enrol-2fa.png"), full_page=True)

    totp = pyotp.parse_uri(uri)
    page.fill("#code", totp.now())
    page.click("#enrol-form button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10

    page.context.clear_cookies()
    sign_in_with_password(page, base, admin)
    page.wait_for_url(f"{base}/login/2fa")
    # The code of the next step is inside the window and later than the one used to enrol.
    page.fill("#code", totp.at(time.time() + 30))
    page.click("#second-factor-form button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")

    assert page.locator("h1").inner_text() == "Sales overview"
    assert "promax_session" not in page.evaluate("document.cookie")
    page.goto(f"{base}/account/sessions")
    page.screenshot(path=str(ARTIFACTS / "sessions.png"), full_page=True)
    # The first sign-in's session was not signed out, only its cookie cleared.
    assert page.locator("#sessions tbody tr").count() == 2
    assert page.locator("#sessions tbody tr", has_text="This session").count() == 1
    # Browsers ask for /favicon.ico on their own; the app does not serve one.
    assert [url for url in failed if not url.endswith("/favicon.ico")] == []
