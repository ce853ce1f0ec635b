"""Health check alerts: once per incident, with a recovery notice.

A tiny SMTP server and an HTTP server on 127.0.0.1 stand in for the relay
and the webhook receiver. The webhook accepts http:// here only because
webhook_allow_http_loopback is on, which production never sets.
"""

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from promax.health_check import (
    CRITICAL,
    OK,
    UNKNOWN,
    WARNING,
    AlertConfig,
    CheckResult,
    HealthConfig,
    IncidentState,
    InvalidWebhookUrl,
    check_disk_space,
    decide_notice,
    process_alert,
    validate_webhook_url,
    worst_status,
)


class SmtpSinkHandler(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink ready")
        while True:
            line = self.rfile.readline().decode().strip()
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                lines = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ".\n", ""):
                    lines.append(data)
                self.server.messages.append("".join(lines))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def smtp_sink():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSinkHandler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_sink():
    server = HTTPServer(("127.0.0.1", 0), WebhookHandler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def alert_config(smtp_sink=None, webhook_sink=None):
    return AlertConfig(
        smtp_host="127.0.0.1" if smtp_sink else None,
        smtp_port=smtp_sink.server_address[1] if smtp_sink else 25,
        smtp_starttls=False,
        mail_from="promax@test.invalid",
        mail_to=("ops@test.invalid",) if smtp_sink else (),
        webhook_url=f"http://127.0.0.1:{webhook_sink.server_address[1]}/hook" if webhook_sink else None,
        webhook_allow_http_loopback=True,
        timeout_seconds=5,
        hostname="appliance-1",
    )


def make_report(status):
    names = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
    checks = [CheckResult("httpd", status, "probe").as_dict()]
    return {"status": names[status], "checks": checks}


def run(status, state_file, config):
    return process_alert(make_report(status), status, state_file, config, now="2026-12-04T10:00:00+00:00")


def test_worst_status_order():
    assert worst_status([]) == OK
    assert worst_status([OK, WARNING]) == WARNING
    assert worst_status([WARNING, UNKNOWN]) == UNKNOWN
    assert worst_status([UNKNOWN, CRITICAL, OK]) == CRITICAL


@pytest.mark.parametrize(
    ("state", "status", "notice", "incident_open"),
    [
        (IncidentState(), OK, None, False),
        (IncidentState(), CRITICAL, "problem", True),
        (IncidentState(True, "CRITICAL", "t0", alerted=True), CRITICAL, None, True),
        (IncidentState(True, "WARNING", "t0", alerted=True), CRITICAL, None, True),
        (IncidentState(True, "CRITICAL", "t0", alerted=False), CRITICAL, "problem", True),
        (IncidentState(True, "CRITICAL", "t0", alerted=True), OK, "recovery", False),
        (IncidentState(True, "CRITICAL", "t0", alerted=False), OK, None, False),
    ],
)
def test_decide_notice_table(state, status, notice, incident_open):
    decided, new_state = decide_notice(state, status, "t1")
    assert decided == notice
    assert new_state.incident_open is incident_open


def test_mail_once_per_incident(tmp_path, smtp_sink):
    state_file = tmp_path / "state.json"
    config = alert_config(smtp_sink=smtp_sink)

    results = [run(status, state_file, config) for status in (CRITICAL, CRITICAL, WARNING, OK, OK)]

    assert [result["notice"] for result in results] == ["problem", None, None, "recovery", None]
    assert len(smtp_sink.messages) == 2
    assert "Subject: PROBLEM CRITICAL: ProMax health on appliance-1" in smtp_sink.messages[0]
    assert "httpd: CRITICAL - probe" in smtp_sink.messages[0]
    assert "Subject: RECOVERY OK: ProMax health on appliance-1" in smtp_sink.messages[1]


def test_webhook_once_per_incident(tmp_path, webhook_sink):
    state_file = tmp_path / "state.json"
    config = alert_config(webhook_sink=webhook_sink)

    for status in (UNKNOWN, UNKNOWN, OK, CRITICAL):
        run(status, state_file, config)

    notices = [post["notice"] for post in webhook_sink.posts]
    assert notices == ["problem", "recovery", "problem"]
    assert webhook_sink.posts[0]["host"] == "appliance-1"
    assert webhook_sink.posts[0]["report"]["status"] == "UNKNOWN"


def test_both_channels(tmp_path, smtp_sink, webhook_sink):
    result = run(CRITICAL, tmp_path / "state.json", alert_config(smtp_sink, webhook_sink))
    assert result["delivered"] == ["mail", "webhook"]
    assert len(smtp_sink.messages) == 1
    assert len(webhook_sink.posts) == 1


def test_failed_delivery_retried(tmp_path, webhook_sink):
    state_file = tmp_path / "state.json"
    unreachable = AlertConfig(
        webhook_url="http://127.0.0.1:9/hook", webhook_allow_http_loopback=True, timeout_seconds=2
    )

    first = run(CRITICAL, state_file, unreachable)
    assert first["delivered"] == []
    assert IncidentState.load(state_file).alerted is False

    second = run(CRITICAL, state_file, alert_config(webhook_sink=webhook_sink))
    assert second["notice"] == "problem"
    assert [post["notice"] for post in webhook_sink.posts] == ["problem"]
    assert IncidentState.load(state_file).alerted is True


def test_failed_recovery_retried(tmp_path, webhook_sink):
    state_file = tmp_path / "state.json"
    run(CRITICAL, state_file, alert_config(webhook_sink=webhook_sink))
    unreachable = AlertConfig(
        webhook_url="http://127.0.0.1:9/hook", webhook_allow_http_loopback=True, timeout_seconds=2
    )

    assert run(OK, state_file, unreachable)["delivered"] == []
    assert IncidentState.load(state_file).incident_open is True

    assert run(OK, state_file, alert_config(webhook_sink=webhook_sink))["notice"] == "recovery"
    assert [post["notice"] for post in webhook_sink.posts] == ["problem", "recovery"]


def test_no_channel_keeps_incident(tmp_path):
    state_file = tmp_path / "state.json"
    result = run(CRITICAL, state_file, AlertConfig())
    assert result["notice"] == "problem"
    assert result["delivered"] == []
    assert IncidentState.load(state_file).incident_open is True


def test_corrupt_state_file_starts_afresh(tmp_path, webhook_sink):
    state_file = tmp_path / "state.json"
    state_file.write_text("{not json")
    assert run(CRITICAL, state_file, alert_config(webhook_sink=webhook_sink))["notice"] == "problem"


@pytest.mark.parametrize(
    ("url", "allow_http_loopback"),
    [
        ("http://hooks.example.com/x", False),
        ("http://hooks.example.com/x", True),
        ("http://127.0.0.1/x", False),
        ("http://10.0.0.5/x", True),
        ("ftp://127.0.0.1/x", True),
        ("https:///x", False),
    ],
)
def test_webhook_url_rejected(url, allow_http_loopback):
    with pytest.raises(InvalidWebhookUrl):
        validate_webhook_url(url, allow_http_loopback)


@pytest.mark.parametrize(
    ("url", "allow_http_loopback"),
    [("https://hooks.example.com/x", False), ("http://127.0.0.1:8080/x", True), ("http://[::1]/x", True)],
)
def test_webhook_url_accepted(url, allow_http_loopback):
    assert validate_webhook_url(url, allow_http_loopback) == url


def test_plain_http_webhook_not_sent(tmp_path, webhook_sink):
    config = AlertConfig(
        webhook_url=f"http://127.0.0.1:{webhook_sink.server_address[1]}/hook", webhook_allow_http_loopback=False
    )
    result = run(CRITICAL, tmp_path / "state.json", config)
    assert result["delivered"] == []
    assert webhook_sink.posts == []


@pytest.mark.parametrize(("percent_limit", "expected"), [(101, OK), (0, CRITICAL)])
def test_disk_space_thresholds(tmp_path, percent_limit, expected):
    config = HealthConfig(disk_paths=(str(tmp_path),), disk_warning_percent=percent_limit,
                          disk_critical_percent=percent_limit)
    assert check_disk_space(config).status == expected


def test_disk_space_missing_paths_unknown(tmp_path):
    config = HealthConfig(disk_paths=(str(tmp_path / "absent"),))
    assert check_disk_space(config).status == UNKNOWN
