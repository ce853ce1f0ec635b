"""Shared settings of the testinfra suite that checks a converged appliance.

Besides the claim marker, this registers a ``control`` marker for hardening
controls, and writes the evidence report (build/audit/report.md and
results.json, or $PROMAX_AUDIT_DIR) at the end of every run.
"""

import os
from pathlib import Path

import report

AUDIT_DIR = Path(os.environ.get("PROMAX_AUDIT_DIR", Path(__file__).resolve().parents[2] / "build" / "audit"))


def pytest_configure(config):
    """Register the claim and control markers and the evidence collector."""
    config.addinivalue_line(
        "markers",
        "claim(id): the security-policy claim (C-x.yz) that a test proves",
    )
    config.addinivalue_line(
        "markers",
        "control(name): the hardening control (ssh, firewall, ...) that a test checks",
    )
    config.pluginmanager.register(report.EvidenceCollector(AUDIT_DIR), "promax-evidence")
