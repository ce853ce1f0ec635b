"""Request rate limits per client IP and per user, counted in Memcached by every worker.

Every request counts against the ``default`` rule. Requests to sign-in and
2FA routes also count against ``auth``, and requests to password, 2FA and
settings routes against ``sensitive`` (at most 15 per minute per user).
Counters live in fixed windows of one minute, so a client can send up to
twice a limit across a window boundary. A limited request gets 429 with
``Retry-After`` set to the seconds left in the window.

Memcached down: each worker counts in its own memory with the same limits
(see ``LocalCounters``). No route becomes unlimited, but with N workers a
client can reach N times a limit, and counts restart when a worker restarts.
"""

import logging
import math
import re
import threading
import time
from dataclasses import dataclass

from pymemcache.exceptions import MemcacheError

from promax.auth.policy import TABS
from promax.auth.session_cache import session_key
from promax.web.client import request_path
from promax.web.errors import error_response

log = logging.getLogger(__name__)

KEY_PREFIX = "promax:v1:rate"
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Rule:
    """Requests allowed per window, per client IP and per signed-in user (None: no limit)."""

    name: str
    per_ip: int | None
    per_user: int | None


# Paths of the sign-in steps; limited per IP because the user is not known yet.
AUTH_PATHS = re.compile(r"^/login(/|$)|^/logout$")
# Password, 2FA and settings routes, pages and API alike. Any path with a
# "settings" segment counts, so settings routes added later are covered.
SENSITIVE_PATHS = re.compile(
    r"^(/api/v1)?/account/(password|2fa)(/|$)"
    r"|^/login/2fa(/|$)"
    r"|^(/api/v1)?/admin/(security|organisation)(/|$)"
    r"|(^|/)settings(/|$)"
)


def rules_from_settings(settings):
    """Return the rules, with the default limits taken from the settings."""
    return {
        "default": Rule("default", settings.rate_limit_per_ip, settings.rate_limit_per_user),
        # Failed sign-ins have their own, stricter counter in promax.auth.throttle.
        "auth": Rule("auth", per_ip=40, per_user=None),
        "sensitive": Rule("sensitive", per_ip=60, per_user=15),
    }


def rules_for(request, rules):
    """Return the rules that apply to a request's path, the default rule first."""
    path = request_path(request)
    applied = [rules["default"]]
    if AUTH_PATHS.search(path) and request.method == "POST":
        applied.append(rules["auth"])
    if SENSITIVE_PATHS.search(path):
        applied.append(rules["sensitive"])
    return applied


def counter_keys(rules, ip_address, user_id, window):
    """Return {key: limit} for each counter a request increments."""
    keys = {}
    for rule in rules:
        if rule.per_ip is not None:
            keys[f"{KEY_PREFIX}:{rule.name}:ip:{ip_address or '-'}:{window}"] = rule.per_ip
        if rule.per_user is not None and user_id:
            keys[f"{KEY_PREFIX}:{rule.name}:user:{user_id}:{window}"] = rule.per_user
    return keys


def generation_keys(cache, organisation_id):
    """Return the tenant cache's generation keys that a tab request reads.

    A cache with per-tab generations takes a tab argument; for it the keys of
    every tab in the catalogue and of the shared "other tabs" counter are
    listed. An invalid organisation id gives no keys.
    """
    try:
        keys = [cache._generation_key(organisation_id)]
    except ValueError:
        return []  # not a valid organisation id; the session lookup fails later
    try:
        keys.extend(cache._generation_key(organisation_id, tab) for tab in (*TABS, "*"))
    except TypeError:
        pass  # this cache keeps one generation per tenant
    return keys


class LocalCounters:
    """Per-process fixed-window counters, used while Memcached is unreachable."""

    def __init__(self):
        self.lock = threading.Lock()
        self.window = None
        self.counts = {}

    def count(self, keys, window):
        """Increment each key; return the counts before the increment."""
        with self.lock:
            if window != self.window:
                self.window = window
                self.counts = {}
            before = {key: self.counts.get(key, 0) for key in keys}
            for key in keys:
                self.counts[key] = before[key] + 1
        return before


class RateLimiter:
    def __init__(self, rules, now=time.time):
        self.rules = rules
        self.now = now
        self.local = LocalCounters()
        # The window of the last "memcached unavailable" warning: one per minute.
        self.warned_window = None

    def check(self, request):
        """Count the request; return None when allowed, else the seconds until it may retry.

        The counters, the session identity and the tenant generation are all
        read with one get_many, which the rest of the request reuses.
        """
        now = self.now()
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        claims = request.session_claims
        user_id = claims.user_id if claims else None
        limits = counter_keys(rules_for(request, self.rules), request.client_ip, user_id, window)

        prefetch = list(limits)
        if claims is not None:
            prefetch.append(session_key(claims.session_id))
            prefetch.extend(generation_keys(request.registry["cache"], claims.organisation_id))

        memcached = request.memcached
        try:
            found = memcached.prefetch(prefetch)
            counts = {key: int(found.get(key) or 0) for key in limits}
            self._increment(memcached, limits, counts)
        except (MemcacheError, OSError, ValueError) as error:
            if self.warned_window != window:
                self.warned_window = window
                log.warning("memcached unavailable; counting requests in this worker only",
                            extra={"error": str(error)})
            counts = self.local.count(list(limits), window)

        for key, limit in limits.items():
            if counts[key] >= limit:
                request.rate_limited_key = key.rsplit(":", 1)[0]
                return retry_after
        return None

    def _increment(self, memcached, limits, counts):
        # Fire-and-forget: the request does not wait for these replies. When
        # two workers both see a missing counter, one add() loses and that
        # request goes uncounted.
        for key in limits:
            if counts[key]:
                memcached.incr(key, 1, noreply=True)
            else:
                memcached.add(key, b"1", expire=WINDOW_SECONDS * 2, noreply=True)


def rate_limit_tween_factory(handler, registry):
    limiter = registry["rate_limiter"]

    def rate_limit_tween(request):
        retry_after = limiter.check(request)
        if retry_after is None:
            return handler(request)
        log.warning("rate limit reached",
                    extra={"counter": request.rate_limited_key, "path": request_path(request),
                           "retry_after": retry_after})
        response = error_response(
            request, 429,
            f"Too many requests. Wait {retry_after} seconds and try again.",
            code="rate_limited",
        )
        response.headers["Retry-After"] = str(retry_after)
        return response

    return rate_limit_tween


def includeme(config):
    settings = config.registry["promax.settings"]
    config.registry["rate_limiter"] = RateLimiter(rules_from_settings(settings))
    config.add_tween(
        "promax.ratelimit.rate_limit_tween_factory",
        under="promax.web.headers.security_headers_tween_factory",
        over=("promax.web.cors.cors_tween_factory", "pyramid.tweens.excview_tween_factory"),
    )
