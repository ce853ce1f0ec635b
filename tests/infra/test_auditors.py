"""Outside auditors: Lynis inside the host and testssl.sh against its HTTPS port.

Both write their raw output to the audit directory (build/audit/ or
$PROMAX_AUDIT_DIR), where report.py reads it for the evidence report.

- Lynis must be installed on the host (hardening_lynis_enabled: true).
- testssl.sh runs on the controller (apt package testssl.sh) against
  PROMAX_HTTPS_URL, and trusts the host's local CA through --add-ca.
"""

import os
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
from conftest import AUDIT_DIR
from report import LYNIS_WAIVERS, load_testssl_findings, parse_lynis_report, severe_findings

HTTPS_URL = os.environ.get("PROMAX_HTTPS_URL", "https://127.0.0.1:18443")
LOCAL_CA_FILE = "/etc/promax/tls-ca-cert.pem"
MIN_LYNIS_INDEX = 80


@pytest.fixture(scope="module")
def lynis_report(host):
    if host.run("command -v lynis").rc != 0:
        pytest.skip("lynis is not installed on the host (set hardening_lynis_enabled: true)")
    host.run("lynis audit system --quick --no-colors --report-file /var/log/lynis-report.dat > /var/log/lynis-audit.log 2>&1")
    AUDIT_DIR.mkdir(parents=True, exist_ok=True)
    path = AUDIT_DIR / "lynis-report.dat"
    with host.sudo():
        path.write_text(host.file("/var/log/lynis-report.dat").content_string)
    return parse_lynis_report(path)


@pytest.mark.control("lynis")
def test_lynis_hardening_index(lynis_report):
    index, _suggestions = lynis_report
    assert index is not None
    assert index >= MIN_LYNIS_INDEX


@pytest.mark.control("lynis")
def test_lynis_suggestions_waived(lynis_report):
    _index, suggestions = lynis_report
    unwaived = sorted({test_id for test_id, _text in suggestions if test_id not in LYNIS_WAIVERS})
    assert unwaived == []


@pytest.fixture(scope="module")
def testssl_findings(host, tmp_path_factory):
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if not testssl:
        pytest.fail("testssl.sh is not installed on the controller: run make test-deps")
    ca_file = tmp_path_factory.mktemp("ca") / "promax-local-ca.pem"
    ca_file.write_text(host.file(LOCAL_CA_FILE).content_string)
    AUDIT_DIR.mkdir(parents=True, exist_ok=True)
    json_file = AUDIT_DIR / "testssl.json"
    json_file.unlink(missing_ok=True)
    target = urlsplit(HTTPS_URL)
    # testssl.sh's exit status is not a verdict (it can be non-zero after a
    # complete scan), so the JSON file is judged instead.
    subprocess.run(
        [
            testssl, "--quiet", "--warnings", "off", "--color", "0", "--add-ca", str(ca_file),
            "--jsonfile", str(json_file), "--sneaky",
            f"{target.hostname}:{target.port or 443}",
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        timeout=900,
    )
    findings = load_testssl_findings(json_file)
    scanned = {finding["id"] for finding in findings}
    assert {"TLS1_2", "cipher_order", "cert_chain_of_trust", "BREACH"} <= scanned, "the testssl.sh scan is incomplete"
    return findings


@pytest.mark.claim("C-2.4a")
@pytest.mark.control("testssl")
def test_testssl_no_medium_or_worse(testssl_findings):
    severe = severe_findings(testssl_findings)
    assert severe == []


@pytest.mark.claim("C-2.4a")
@pytest.mark.control("testssl")
def test_testssl_protocols(testssl_findings):
    offered = {f["id"]: f["finding"] for f in testssl_findings if f["id"] in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")}
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert offered.get(old, "not offered").startswith("not offered"), (old, offered.get(old))
    assert offered.get("TLS1_2", "").startswith("offered")
    assert offered.get("TLS1_3", "").startswith("offered")
