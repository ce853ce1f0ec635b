"""The appliance's 8-point health check, with Nagios exit codes and alerts.

Checks: the app server (gunicorn answers ``/healthz`` on its Unix socket),
httpd, MariaDB, Memcached, ERP API reachability per organisation, database
accessibility (the control plane and every tenant schema), disk space, and
the systemd timers. ``promax health`` runs them; the promax-health timer runs
that command every 5 minutes with ``--alert``.

An alert goes out once per incident: the first failed run opens the incident
and sends a problem notice, later failed runs stay silent, and the first
healthy run sends a recovery notice. A state file carries the incident from
one run to the next. When every configured channel fails, the next run tries
again.
"""

import http.client
import ipaddress
import json
import logging
import os
import shutil
import smtplib
import socket
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATUS_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# Worst first wins when results are combined: CRITICAL > UNKNOWN > WARNING > OK.
SEVERITY_RANK = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}

DEFAULT_TIMERS = ("promax-sync.timer", "promax-health.timer")


@dataclass
class CheckResult:
    """Outcome of one check: a Nagios status, a one-line message and details."""

    name: str
    status: int
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self):
        return {
            "name": self.name,
            "status": STATUS_NAMES[self.status],
            "message": self.message,
            "details": self.details,
        }


def worst_status(statuses):
    """Return the most severe of the given Nagios statuses (OK for none)."""
    return max(statuses, key=SEVERITY_RANK.__getitem__, default=OK)


def _env_list(environ, name, default):
    raw = environ.get(name)
    if raw is None:
        return tuple(default)
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _env_bool(environ, name, default=False):
    raw = environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class HealthConfig:
    """Targets and thresholds of the checks, read from PROMAX_HEALTH_* variables."""

    app_socket: str = "/run/promax/gunicorn.sock"
    httpd_url: str = "https://127.0.0.1/healthz"
    # CA file for the httpd check; None skips verification, which is safe only
    # because the check talks to this host over loopback and sends no secret.
    httpd_ca_file: str | None = None
    disk_paths: tuple = ("/", "/var/lib/mysql", "/var/log")
    disk_warning_percent: int = 80
    disk_critical_percent: int = 90
    timers: tuple = DEFAULT_TIMERS
    timeout_seconds: float = 10.0
    check_erp: bool = True

    @classmethod
    def from_environ(cls, environ):
        return cls(
            app_socket=environ.get("PROMAX_HEALTH_APP_SOCKET", cls.app_socket),
            httpd_url=environ.get("PROMAX_HEALTH_HTTPD_URL", cls.httpd_url),
            httpd_ca_file=environ.get("PROMAX_HEALTH_HTTPD_CA_FILE") or None,
            disk_paths=_env_list(environ, "PROMAX_HEALTH_DISK_PATHS", cls.disk_paths),
            disk_warning_percent=int(environ.get("PROMAX_HEALTH_DISK_WARNING_PERCENT", 80)),
            disk_critical_percent=int(environ.get("PROMAX_HEALTH_DISK_CRITICAL_PERCENT", 90)),
            timers=_env_list(environ, "PROMAX_HEALTH_TIMERS", DEFAULT_TIMERS),
            timeout_seconds=float(environ.get("PROMAX_HEALTH_TIMEOUT_SECONDS", 10)),
            check_erp=_env_bool(environ, "PROMAX_HEALTH_CHECK_ERP", True),
        )


# --- the eight checks -------------------------------------------------------


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket, as httpd's mod_proxy talks to gunicorn."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def check_app_server(config):
    connection = _UnixHTTPConnection(config.app_socket, config.timeout_seconds)
    try:
        connection.request("GET", "/healthz", headers={"Host": "localhost"})
        response = connection.getresponse()
        body = response.read()
    except OSError as error:
        return CheckResult("app_server", CRITICAL, f"{config.app_socket}: {error}")
    finally:
        connection.close()
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    if response.status != 200:
        return CheckResult(
            "app_server", CRITICAL, f"/healthz returned HTTP {response.status}", payload
        )
    return CheckResult("app_server", OK, "gunicorn answers /healthz", payload)


def check_httpd(config):
    verify = config.httpd_ca_file or False
    try:
        with requests.Session() as session:
            # trust_env off: no proxy or CA bundle from the environment.
            session.trust_env = False
            response = session.get(
                config.httpd_url,
                verify=verify,
                timeout=config.timeout_seconds,
                allow_redirects=False,
            )
    except requests.RequestException as error:
        return CheckResult("httpd", CRITICAL, f"{config.httpd_url}: {error}")
    if response.status_code != 200:
        return CheckResult("httpd", CRITICAL, f"{config.httpd_url} returned HTTP {response.status_code}")
    return CheckResult("httpd", OK, f"{config.httpd_url} returned HTTP 200")


def check_mariadb(engine):
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT VERSION()")).scalar_one()
    except SQLAlchemyError as error:
        return CheckResult("mariadb", CRITICAL, f"cannot query MariaDB: {type(error).__name__}: {error}")
    return CheckResult("mariadb", OK, f"MariaDB {version} answers", {"version": version})


def check_memcached(settings):
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheError

    from promax.cache import parse_server

    client = Client(parse_server(settings.memcached_server), connect_timeout=2, timeout=2)
    try:
        version = client.version()
    except (OSError, MemcacheError) as error:
        return CheckResult("memcached", CRITICAL, f"{settings.memcached_server}: {type(error).__name__}: {error}")
    finally:
        client.close()
    version = version.decode() if isinstance(version, bytes) else str(version)
    return CheckResult("memcached", OK, f"Memcached {version} answers", {"version": version})


def check_erp(session_factory, settings, environ, enabled=True):
    """Ask each organisation's ERP who the stored key belongs to (one GET each)."""
    if not enabled:
        return CheckResult("erp_api", OK, "skipped: PROMAX_HEALTH_CHECK_ERP is off")

    from sqlalchemy import select

    from promax.erp.client import ErpError
    from promax.erp.credentials import CredentialError
    from promax.erp.limiter import SlotTimeout
    from promax.erp.link import ErpLinkMissing, InvalidErpUrl, build_client
    from promax.models.control import ErpLink, Organisation

    failures = {}
    reachable = []
    with session_factory() as session:
        rows = session.execute(
            select(Organisation.id, Organisation.slug).join(ErpLink, ErpLink.organisation_id == Organisation.id)
        ).all()
        clients = {}
        for organisation_id, slug in rows:
            try:
                clients[slug] = build_client(session, settings, organisation_id, environ)
            except (ErpLinkMissing, InvalidErpUrl, CredentialError, OSError) as error:
                failures[slug] = str(error)
    for slug, client in clients.items():
        with client:
            try:
                client.get_logged_user()
                reachable.append(slug)
            except (ErpError, SlotTimeout) as error:
                failures[slug] = str(error)

    details = {"reachable": sorted(reachable), "failed": failures}
    if not rows:
        return CheckResult("erp_api", OK, "no organisation has an ERP link", details)
    if failures:
        # One unreachable ERP degrades that tenant only; all of them down is critical.
        status = CRITICAL if not reachable else WARNING
        return CheckResult("erp_api", status, f"{len(failures)} of {len(rows)} ERP APIs failed", details)
    return CheckResult("erp_api", OK, f"{len(rows)} ERP APIs reachable", details)


def check_database_access(engine, settings):
    """Check the control plane, and that each tenant's own account sees all its tables."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from promax.models.tenant import TenantBase
    from promax.tenants.engines import TenantEngines
    from promax.tenants.schema import schema_name

    expected_tables = len(TenantBase.metadata.tables)
    try:
        with engine.connect() as connection:
            organisation_ids = connection.execute(text("SELECT id FROM organisations")).scalars().all()
    except SQLAlchemyError as error:
        return CheckResult(
            "database_access", CRITICAL, f"cannot read the control plane: {type(error).__name__}: {error}"
        )

    # Each tenant schema is reachable only through that tenant's account, so
    # the check connects as each tenant in turn.
    incomplete = {}
    engines = TenantEngines(settings)
    try:
        for organisation_id in organisation_ids:
            name = schema_name(organisation_id)
            try:
                with engines.get(organisation_id).connect() as connection:
                    found = connection.execute(
                        text("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = :schema"),
                        {"schema": name},
                    ).scalar_one()
            except SQLAlchemyError as error:
                incomplete[name] = f"{type(error).__name__}: {error}"[:300]
                continue
            if found < expected_tables:
                incomplete[name] = f"{found} of {expected_tables} tables"
    finally:
        engines.dispose()

    details = {"tenants": len(organisation_ids), "tables_per_tenant": expected_tables, "failed": incomplete}
    if incomplete:
        return CheckResult(
            "database_access", CRITICAL, f"{len(incomplete)} of {len(organisation_ids)} tenant schemas failed", details
        )
    return CheckResult("database_access", OK, f"{len(organisation_ids)} tenant schemas complete", details)


def check_disk_space(config):
    usage = {}
    for path in config.disk_paths:
        try:
            total, used, _free = shutil.disk_usage(path)
        except OSError:
            continue  # a path that this host does not have, such as a separate log volume
        usage[path] = round(100 * used / total, 1) if total else 0.0
    if not usage:
        return CheckResult("disk_space", UNKNOWN, f"none of {list(config.disk_paths)} exists")
    fullest = max(usage, key=usage.get)
    percent = usage[fullest]
    if percent >= config.disk_critical_percent:
        status = CRITICAL
    elif percent >= config.disk_warning_percent:
        status = WARNING
    else:
        status = OK
    return CheckResult("disk_space", status, f"{fullest} is {percent}% full", {"used_percent": usage})


def _systemctl_show(unit, properties, timeout):
    output = subprocess.run(
        ["systemctl", "show", "--property", ",".join(properties), unit],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def check_timers(config):
    """Check that each timer is active and the last run of its service succeeded."""
    problems = {}
    states = {}
    for timer in config.timers:
        try:
            timer_state = _systemctl_show(timer, ["ActiveState", "Unit"], config.timeout_seconds)
            service = timer_state.get("Unit") or timer.removesuffix(".timer") + ".service"
            service_state = _systemctl_show(service, ["Result"], config.timeout_seconds)
        except (OSError, subprocess.SubprocessError) as error:
            return CheckResult("timers", UNKNOWN, f"systemctl failed: {error}")
        states[timer] = {"active": timer_state.get("ActiveState"), "last_result": service_state.get("Result")}
        if timer_state.get("ActiveState") != "active":
            problems[timer] = f"timer is {timer_state.get('ActiveState')}"
        elif service_state.get("Result") not in ("success", None, ""):
            problems[timer] = f"last run of {service} ended with {service_state['Result']}"
    if problems:
        return CheckResult("timers", WARNING, "; ".join(f"{k}: {v}" for k, v in problems.items()), states)
    return CheckResult("timers", OK, f"{len(states)} timers active", states)


def run_checks(context, config):
    """Run the eight checks and return their results in a fixed order."""
    results = [check_app_server(config), check_httpd(config)]
    try:
        settings = context.settings
        engine = context.engine
    except Exception as error:  # noqa: BLE001 - a broken configuration is itself a finding
        message = f"cannot load the settings: {type(error).__name__}: {error}"
        results += [
            CheckResult(name, UNKNOWN, message)
            for name in ("mariadb", "memcached", "erp_api", "database_access")
        ]
    else:
        results.append(check_mariadb(engine))
        results.append(check_memcached(settings))
        results.append(_guarded("erp_api", check_erp, context.session, settings, context.environ, config.check_erp))
        results.append(_guarded("database_access", check_database_access, engine, settings))
    results.append(check_disk_space(config))
    results.append(check_timers(config))
    return results


def _guarded(name, check, *args):
    """Run a check and turn an unexpected error into an UNKNOWN result."""
    try:
        return check(*args)
    except Exception as error:  # one broken check must not hide the others
        log.exception("health check %s failed with an unexpected error", name)
        return CheckResult(name, UNKNOWN, f"check failed: {type(error).__name__}: {error}")


# --- alerts -----------------------------------------------------------------


@dataclass
class IncidentState:
    """What the previous runs left: an open incident and whether it was announced."""

    incident_open: bool = False
    status: str = "OK"
    since: str | None = None
    alerted: bool = False

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding="utf-8") as state_file:
                data = json.load(state_file)
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as error:
            log.warning("health state file %s is unreadable, starting afresh: %s", path, error)
            return cls()
        return cls(**{key: data[key] for key in ("incident_open", "status", "since", "alerted") if key in data})

    def save(self, path):
        temporary = f"{path}.tmp"
        with open(temporary, "w", encoding="utf-8") as state_file:
            json.dump(asdict(self), state_file)
        os.replace(temporary, path)


def decide_notice(state, status, now):
    """Return (notice, new_state): notice is "problem", "recovery" or None.

    A failed run opens an incident and asks for a problem notice; further
    failed runs ask again only while no notice got through. A healthy run
    closes the incident and asks for a recovery notice when a problem
    notice was sent.
    """
    failing = status != OK
    name = STATUS_NAMES[status]
    if failing:
        if not state.incident_open:
            return "problem", IncidentState(True, name, now, alerted=False)
        new_state = IncidentState(True, name, state.since, state.alerted)
        return (None if state.alerted else "problem"), new_state
    if state.incident_open:
        return ("recovery" if state.alerted else None), IncidentState()
    return None, IncidentState()


@dataclass(frozen=True)
class AlertConfig:
    """Alert channels, read from PROMAX_ALERT_* variables."""

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "promax@localhost"
    mail_to: tuple = ()
    webhook_url: str | None = None
    # Tests and lab setups may post to http:// on a loopback address; every
    # other webhook must use https://.
    webhook_allow_http_loopback: bool = False
    timeout_seconds: float = 10.0
    hostname: str = field(default_factory=socket.gethostname)

    @classmethod
    def from_environ(cls, environ):
        return cls(
            smtp_host=environ.get("PROMAX_ALERT_SMTP_HOST") or None,
            smtp_port=int(environ.get("PROMAX_ALERT_SMTP_PORT", 25)),
            smtp_starttls=_env_bool(environ, "PROMAX_ALERT_SMTP_STARTTLS", True),
            smtp_username=environ.get("PROMAX_ALERT_SMTP_USERNAME") or None,
            smtp_password=environ.get("PROMAX_ALERT_SMTP_PASSWORD") or None,
            mail_from=environ.get("PROMAX_ALERT_MAIL_FROM", "promax@localhost"),
            mail_to=_env_list(environ, "PROMAX_ALERT_MAIL_TO", ()),
            webhook_url=environ.get("PROMAX_ALERT_WEBHOOK_URL") or None,
            webhook_allow_http_loopback=_env_bool(environ, "PROMAX_ALERT_WEBHOOK_ALLOW_HTTP_LOOPBACK"),
            timeout_seconds=float(environ.get("PROMAX_ALERT_TIMEOUT_SECONDS", 10)),
        )

    @property
    def channels(self):
        names = []
        if self.smtp_host and self.mail_to:
            names.append("mail")
        if self.webhook_url:
            names.append("webhook")
        return names


class InvalidWebhookUrl(ValueError):
    """Raised for a webhook URL that is not https:// (or allowed http:// on loopback)."""


def validate_webhook_url(url, allow_http_loopback=False):
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and allow_http_loopback and parts.hostname:
        try:
            if ipaddress.ip_address(parts.hostname).is_loopback:
                return url
        except ValueError:
            pass
    raise InvalidWebhookUrl(
        f"webhook URL {url!r} is invalid: expected https://HOST/... "
        "(http:// is accepted only for a loopback address with PROMAX_ALERT_WEBHOOK_ALLOW_HTTP_LOOPBACK=true)"
    )


def _notice_text(notice, report, config):
    status = report["status"]
    failing = [check for check in report["checks"] if check["status"] != "OK"]
    if notice == "problem":
        subject = f"PROBLEM {status}: ProMax health on {config.hostname}"
    else:
        subject = f"RECOVERY OK: ProMax health on {config.hostname}"
    lines = [subject, ""]
    lines += [f"{check['name']}: {check['status']} - {check['message']}" for check in failing] or [
        "All 8 checks passed."
    ]
    return subject, "\n".join(lines) + "\n"


def send_mail(config, subject, body):
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.mail_from
    message["To"] = ", ".join(config.mail_to)
    message.set_content(body)
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds) as smtp:
        if config.smtp_starttls:
            smtp.starttls()
        if config.smtp_username:
            smtp.login(config.smtp_username, config.smtp_password or "")
        smtp.send_message(message)


def send_webhook(config, notice, subject, report):
    url = validate_webhook_url(config.webhook_url, config.webhook_allow_http_loopback)
    payload = {"notice": notice, "subject": subject, "host": config.hostname, "report": report}
    with requests.Session() as session:
        session.trust_env = False
        response = session.post(url, json=payload, timeout=config.timeout_seconds, allow_redirects=False)
    response.raise_for_status()


def send_notice(config, notice, report):
    """Send the notice on every configured channel; return the channels that succeeded."""
    subject, body = _notice_text(notice, report, config)
    delivered = []
    if "mail" in config.channels:
        try:
            send_mail(config, subject, body)
            delivered.append("mail")
        except (OSError, smtplib.SMTPException) as error:
            log.error("health alert by mail via %s:%s failed: %s", config.smtp_host, config.smtp_port, error)
    if "webhook" in config.channels:
        try:
            send_webhook(config, notice, subject, report)
            delivered.append("webhook")
        except (InvalidWebhookUrl, requests.RequestException) as error:
            log.error("health alert by webhook failed: %s", error)
    return delivered


def process_alert(report, status, state_path, config, now=None):
    """Apply the once-per-incident rule, send a notice when due and save the state.

    Returns a summary for the command's output.
    """
    now = now or datetime.now(UTC).isoformat(timespec="seconds")
    state = IncidentState.load(state_path)
    notice, new_state = decide_notice(state, status, now)
    delivered = []
    if notice:
        if not config.channels:
            log.warning("health %s notice not sent: no alert channel is configured", notice)
        else:
            delivered = send_notice(config, notice, report)
            log.info("health %s notice sent", notice, extra={"channels": delivered})
        if notice == "problem":
            new_state.alerted = bool(delivered)
        elif not delivered and config.channels:
            # Keep the incident open so that the next healthy run retries the recovery notice.
            new_state = IncidentState(True, state.status, state.since, alerted=True)
    new_state.save(state_path)
    return {"notice": notice, "delivered": delivered, "incident_open": new_state.incident_open}
