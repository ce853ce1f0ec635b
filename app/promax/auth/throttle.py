"""Throttling of failed sign-ins and second-factor codes, per account and per IP address.

Failures are counted in Memcached in fixed windows of WINDOW_SECONDS. When
Memcached cannot be reached, the counts come from the audit log instead
(the failure events written in the same window), so an outage of the cache
never makes guessing unlimited.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from pymemcache.exceptions import MemcacheError
from sqlalchemy import func, select

from promax.auth.sessions import utcnow
from promax.models.control import AuditEvent

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
KEY_PREFIX = "promax:v1:throttle"


@dataclass(frozen=True)
class Limit:
    """How many failures of one kind an account and an IP address may have per window."""

    kind: str  # "login" or "2fa"
    failure_event: str  # the audit event type that records one failure
    per_account: int
    per_ip: int


LOGIN = Limit("login", "auth.login_failed", per_account=5, per_ip=30)
SECOND_FACTOR = Limit("2fa", "auth.2fa_failed", per_account=5, per_ip=30)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends
    scope: str = ""  # "account" or "ip" when not allowed


def _window():
    now = int(time.time())
    return now // WINDOW_SECONDS, WINDOW_SECONDS - now % WINDOW_SECONDS


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _keys(limit, account, ip_address, window):
    return {
        "account": f"{KEY_PREFIX}:{limit.kind}:account:{_digest(account)}:{window}",
        "ip": f"{KEY_PREFIX}:{limit.kind}:ip:{_digest(ip_address or '-')}:{window}",
    }


def _client(request):
    return request.registry["cache"].client


def _counts_from_audit_log(request, limit, user_id, ip_address):
    """Count this window's failure events by user and by IP address in the audit log."""
    since = utcnow() - timedelta(seconds=WINDOW_SECONDS)
    dbsession = request.dbsession
    base = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event_type == limit.failure_event, AuditEvent.occurred_at >= since
    )
    by_account = dbsession.scalar(base.where(AuditEvent.user_id == user_id)) if user_id else 0
    by_ip = dbsession.scalar(base.where(AuditEvent.ip_address == (ip_address or "")))
    return {"account": by_account or 0, "ip": by_ip or 0}


def check(request, limit, account, user_id):
    """Return whether another attempt is allowed for this account and the client's IP."""
    window, retry_after = _window()
    ip_address = request.client_ip
    keys = _keys(limit, account, ip_address, window)
    try:
        found = _client(request).get_many(list(keys.values()))
        counts = {scope: int(found.get(key) or 0) for scope, key in keys.items()}
    except (MemcacheError, OSError) as error:
        log.warning("memcached unavailable; counting failures in the audit log",
                    extra={"error": str(error), "limit": limit.kind})
        counts = _counts_from_audit_log(request, limit, user_id, ip_address)
        # The audit log counts a rolling window, so wait a whole window.
        retry_after = WINDOW_SECONDS

    if counts["account"] >= limit.per_account:
        return Verdict(False, retry_after, "account")
    if counts["ip"] >= limit.per_ip:
        return Verdict(False, retry_after, "ip")
    return Verdict(True)


def record_failure(request, limit, account):
    """Count one failure in Memcached; the caller records the audit event as well."""
    window, _ = _window()
    client = _client(request)
    for key in _keys(limit, account, request.client_ip, window).values():
        try:
            if client.incr(key, 1) is None:
                # add() loses a race with another worker's add(); incr again then.
                if not client.add(key, b"1", expire=WINDOW_SECONDS + 60, noreply=False):
                    client.incr(key, 1)
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable; failure counted in the audit log only",
                        extra={"error": str(error), "limit": limit.kind})
            return


def clear_account(request, limit, account):
    """Forget an account's failures after it signed in successfully."""
    window, _ = _window()
    try:
        _client(request).delete(_keys(limit, account, "", window)["account"], noreply=True)
    except (MemcacheError, OSError) as error:
        log.warning("memcached unavailable", extra={"error": str(error), "limit": limit.kind})
