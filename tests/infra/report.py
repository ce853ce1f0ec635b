"""Evidence report of a tests/infra run: claims, controls, Lynis and testssl.sh.

EvidenceCollector is a pytest plugin (conftest.py registers it). It records
the outcome of every test with its claim and control markers and, when the
run ends, writes to the audit directory:

- results.json: one entry per test (node id, outcome, claims, controls);
- report.md: every host claim of claims.HOST_CLAIMS with the tests that
  prove it, the claims still unproven, the results per control, and the
  Lynis and testssl.sh summaries that test_auditors.py left in that
  directory (lynis-report.dat, testssl.json).

pytest's --junitxml option writes the JUnit XML beside it; the claim IDs are
in its <properties> too, because every test records them.
"""

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from claims import HOST_CLAIMS
from waivers import LYNIS_WAIVERS, TESTSSL_WAIVERS

SEVERITY_ORDER = ["OK", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
MIN_REPORTED_SEVERITY = "MEDIUM"


class EvidenceCollector:
    """pytest plugin that gathers outcomes per claim and control."""

    def __init__(self, audit_dir):
        self.audit_dir = Path(audit_dir)
        self.results = {}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            claims = [mark.args[0] for mark in item.iter_markers("claim")]
            controls = [mark.args[0] for mark in item.iter_markers("control")]
            for claim in claims:
                item.user_properties.append(("claim", claim))
            for control in controls:
                item.user_properties.append(("control", control))

    def pytest_runtest_logreport(self, report):
        claims = [value for key, value in report.user_properties if key == "claim"]
        controls = [value for key, value in report.user_properties if key == "control"]
        entry = self.results.setdefault(
            report.nodeid, {"outcome": "passed", "claims": claims, "controls": controls, "reason": ""}
        )
        if report.skipped:
            entry["outcome"] = "skipped"
            entry["reason"] = _skip_reason(report)
        elif report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["reason"] = str(report.longrepr).splitlines()[-1][:300] if report.longrepr else ""

    def pytest_sessionfinish(self, session):
        if not self.results:
            return
        self.audit_dir.mkdir(parents=True, exist_ok=True)
        (self.audit_dir / "results.json").write_text(json.dumps(self.results, indent=2, sort_keys=True))
        hosts = session.config.getoption("hosts", default=None) or []
        if isinstance(hosts, str):
            hosts = hosts.split(",")
        markdown = render_report(self.results, self.audit_dir, hosts)
        (self.audit_dir / "report.md").write_text(markdown)


def _skip_reason(report):
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


def _short_name(nodeid):
    """Return "file.py::test[params]" from a node id whose parameters may contain slashes."""
    path, _, name = nodeid.partition("::")
    return f"{Path(path).name}::{name}"


def render_report(results, audit_dir, hosts):
    lines = [
        "# ProMax host audit: evidence report",
        "",
        f"Generated {datetime.now(UTC).isoformat(timespec='seconds')} for {', '.join(map(str, hosts)) or 'the default host'}.",
        "",
    ]
    lines += _claims_section(results)
    lines += _controls_section(results)
    lines += _lynis_section(audit_dir)
    lines += _testssl_section(audit_dir)
    lines += _waived_tests_section(results)
    return "\n".join(lines) + "\n"


def _claims_section(results):
    by_claim = defaultdict(list)
    for nodeid, entry in results.items():
        for claim in entry["claims"]:
            by_claim[claim].append((nodeid, entry["outcome"]))

    lines = ["## Host claims", "", "| claim | summary | verdict | tests (outcome) |", "|---|---|---|---|"]
    unproven = []
    for claim, summary in HOST_CLAIMS.items():
        tests = by_claim.get(claim, [])
        passed = [t for t in tests if t[1] == "passed"]
        failed = [t for t in tests if t[1] in ("failed", "error")]
        if failed:
            verdict = "**FAILED**"
        elif passed:
            verdict = "proven"
        else:
            verdict = "**unproven**"
            unproven.append(claim)
        listed = "<br>".join(f"`{_short_name(nodeid)}` ({outcome})" for nodeid, outcome in sorted(tests))
        lines.append(f"| {claim} | {summary} | {verdict} | {listed or '-'} |")
    lines += ["", "### Claims still unproven", ""]
    lines += [f"- {claim}: {HOST_CLAIMS[claim]}" for claim in unproven] or ["None: every host claim has a passing test."]
    other = sorted(set(by_claim) - set(HOST_CLAIMS))
    if other:
        lines += ["", "Application claims also checked through the host: " + ", ".join(other) + "."]
    return lines + [""]


def _controls_section(results):
    by_control = defaultdict(lambda: defaultdict(int))
    for entry in results.values():
        for control in entry["controls"]:
            by_control[control][entry["outcome"]] += 1
    lines = ["## Hardening controls", "", "| control | passed | failed | skipped (waived) |", "|---|---|---|---|"]
    for control in sorted(by_control):
        counts = by_control[control]
        failed = counts["failed"] + counts["error"]
        lines.append(f"| {control} | {counts['passed']} | {failed} | {counts['skipped']} |")
    total = defaultdict(int)
    for entry in results.values():
        total[entry["outcome"]] += 1
    lines += ["", "All tests: " + ", ".join(f"{count} {outcome}" for outcome, count in sorted(total.items())) + "."]
    return lines + [""]


def parse_lynis_report(path):
    """Return (hardening index or None, suggestions as (test id, text) pairs)."""
    index = None
    suggestions = []
    for line in Path(path).read_text(errors="replace").splitlines():
        if line.startswith("hardening_index="):
            index = int(line.split("=", 1)[1])
        elif line.startswith("suggestion[]="):
            fields = line.split("=", 1)[1].split("|")
            suggestions.append((fields[0], fields[1] if len(fields) > 1 else ""))
    return index, suggestions


def _lynis_section(audit_dir):
    path = Path(audit_dir) / "lynis-report.dat"
    lines = ["## Lynis", ""]
    if not path.exists():
        return lines + ["Not run: no lynis-report.dat in the audit directory.", ""]
    index, suggestions = parse_lynis_report(path)
    lines += [f"Hardening index: **{index}** (required: 80 or more).", ""]
    lines += ["| test | suggestion | waiver |", "|---|---|---|"]
    for test_id, text in suggestions:
        reason = LYNIS_WAIVERS.get(test_id, "**not waived**")
        lines.append(f"| {test_id} | {text.replace('|', '/')} | {reason} |")
    return lines + [""]


def load_testssl_findings(path):
    """Return the findings of a testssl.sh --jsonfile output (a flat JSON list)."""
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict):  # --jsonfile-pretty nests the findings
        data = [finding for scan in data.get("scanResult", []) for group in scan.values()
                if isinstance(group, list) for finding in group]
    return data


def severe_findings(findings, minimum=MIN_REPORTED_SEVERITY):
    """Return the findings at or above `minimum` that no waiver covers."""
    floor = SEVERITY_ORDER.index(minimum)
    return [
        finding for finding in findings
        if finding.get("severity") in SEVERITY_ORDER
        and SEVERITY_ORDER.index(finding["severity"]) >= floor
        and finding.get("id") not in TESTSSL_WAIVERS
    ]


def _testssl_section(audit_dir):
    path = Path(audit_dir) / "testssl.json"
    lines = ["## testssl.sh", ""]
    if not path.exists():
        return lines + ["Not run: no testssl.json in the audit directory.", ""]
    findings = load_testssl_findings(path)
    counts = defaultdict(int)
    for finding in findings:
        counts[finding.get("severity", "?")] += 1
    lines.append("Findings per severity: " + ", ".join(f"{s} {counts[s]}" for s in SEVERITY_ORDER if counts[s]) + ".")
    lines.append("")
    severe = severe_findings(findings)
    lines.append(f"Findings of severity {MIN_REPORTED_SEVERITY} or above, not waived: **{len(severe)}**.")
    lines += ["", "| id | severity | finding | waiver |", "|---|---|---|---|"]
    for finding in findings:
        if finding.get("severity") in ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN"):
            text = re.sub(r"\s+", " ", str(finding.get("finding", ""))).replace("|", "/")
            waiver = TESTSSL_WAIVERS.get(finding.get("id"), "")
            lines.append(f"| {finding.get('id')} | {finding.get('severity')} | {text[:160]} | {waiver} |")
    return lines + [""]


def _waived_tests_section(results):
    skipped = [(nodeid, entry["reason"]) for nodeid, entry in sorted(results.items()) if entry["outcome"] == "skipped"]
    lines = ["## Skipped tests (waivers)", ""]
    lines += [f"- `{_short_name(nodeid)}`: {reason}" for nodeid, reason in skipped] or ["None."]
    return lines + [""]
