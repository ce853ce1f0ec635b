"""A read-only client of the Frappe REST API that ERPNext serves.

The client can send GET requests only: any other method raises
ErpReadOnlyError before a connection is opened. It retries HTTP 429 after
1, 2 and 4 seconds, or after the ERP's Retry-After when that is longer
(capped at MAX_RETRY_AFTER_SECONDS). It retries 502, 503, 504 and connection errors on the
same schedule, and holds one of the account's host-wide request slots while
a request is in flight.
"""

import json
import logging
import time
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import requests

from promax.erp.limiter import AccountSemaphore, SlotTimeout, account_id, resolve_lock_dir

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (1, 2, 4)
MAX_RETRY_AFTER_SECONDS = 60
RETRIED_STATUSES = frozenset({502, 503, 504})
ALLOWED_METHOD = "GET"


class ErpError(Exception):
    """A failed ERP request; the message names the request, never the credentials."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ErpAuthError(ErpError):
    """The ERP rejected the API key (401) or denied the key's user access (403)."""


class ErpNotFound(ErpError):
    """The ERP has no such DocType or document (404)."""


class ErpReadOnlyError(ErpError):
    """Raised for any method but GET, before any I/O."""


def _reject_method(method):
    if str(method).upper() != ALLOWED_METHOD:
        raise ErpReadOnlyError(f"the ERP client is read-only: {method} requests are not allowed")


class ReadOnlySession(requests.Session):
    """A requests session that raises on every method but GET, before any I/O."""

    def request(self, method, url, *args, **kwargs):
        _reject_method(method)
        return super().request(method, url, *args, **kwargs)

    def send(self, request, **kwargs):
        _reject_method(request.method)
        return super().send(request, **kwargs)


class TokenAuth(requests.auth.AuthBase):
    """Frappe's ``Authorization: token KEY:SECRET`` header; its repr hides the secret."""

    def __init__(self, api_key, api_secret):
        self._header = f"token {api_key}:{api_secret}"

    def __call__(self, request):
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self):
        return "TokenAuth(***)"


def parse_retry_after(value, now=None):
    """Return the delay in seconds that a Retry-After header requests, or None when absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0, int((when - now).total_seconds() + 0.999))


class ErpClient:
    """GET-only access to one ERP account.

    ``sleep`` is the function that waits between retries; tests pass a recorder.
    ``semaphore`` is the account's host-wide limit; None builds one in the
    lock directory that ``resolve_lock_dir`` picks.
    """

    def __init__(
        self,
        site_url,
        api_key,
        api_secret,
        *,
        timeout_seconds=30,
        sleep=time.sleep,
        semaphore=None,
        lock_dir=None,
        verify=True,
    ):
        self.base_url = site_url.rstrip("/")
        self.host = urlsplit(self.base_url).hostname or ""
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self.account = account_id(self.base_url, api_key)
        if semaphore is None:
            semaphore = AccountSemaphore(lock_dir or resolve_lock_dir(), self.account)
        self.semaphore = semaphore
        self.session = ReadOnlySession()
        # trust_env off: no proxy from the environment, and no ~/.netrc entry
        # can replace the Authorization header.
        self.session.trust_env = False
        self.session.verify = verify
        self.session.auth = TokenAuth(api_key, api_secret)
        self._secrets = tuple(value for value in (api_secret, api_key) if value)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "promax-sync"})

    def __repr__(self):
        return f"ErpClient({self.base_url!r}, account={self.account})"

    def close(self):
        self.session.close()

    def redact(self, text):
        """Return text with this client's API key and secret masked, for error reports."""
        for value in self._secrets:
            text = text.replace(value, "***")
        return text

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def request(self, method, path, params=None):
        """Send one request with retries; return the decoded JSON body.

        Numbers in the body are decoded as Decimal, so money never passes
        through binary floating point.
        """
        _reject_method(method)
        url = self.base_url + path
        retries = len(BACKOFF_SECONDS)

        for attempt in range(retries + 1):
            try:
                with self.semaphore.slot():
                    # Redirects are not followed: a redirect could lead to a host the
                    # URL checks in promax.erp.link never saw.
                    response = self.session.get(
                        url, params=params, timeout=self.timeout_seconds, allow_redirects=False
                    )
            except SlotTimeout as error:
                raise ErpError(f"GET {path} not sent: {error}") from None
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt == retries:
                    raise ErpError(
                        f"GET {path} on {self.host} failed after {attempt + 1} attempts: "
                        f"{type(error).__name__}"
                    ) from None
                self._wait(path, attempt, None, None, reason=type(error).__name__)
                continue

            status = response.status_code
            if status == 429 or status in RETRIED_STATUSES:
                if attempt == retries:
                    raise ErpError(
                        f"GET {path} on {self.host} failed after {attempt + 1} attempts: "
                        f"HTTP {status}",
                        status,
                    )
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                self._wait(path, attempt, status, retry_after)
                continue
            return self._decode(path, response)

        raise AssertionError("unreachable")  # the loop returns or raises

    def _wait(self, path, attempt, status, retry_after, reason=None):
        delay = BACKOFF_SECONDS[attempt]
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        log.warning(
            "ERP request retried",
            extra={
                "erp_host": self.host,
                "erp_account": self.account,
                "path": path,
                "status": status,
                "reason": reason,
                "retry": attempt + 1,
                "delay_seconds": delay,
                "retry_after": retry_after,
            },
        )
        self.sleep(delay)

    def _decode(self, path, response):
        status = response.status_code
        if status in (401, 403):
            raise ErpAuthError(
                f"GET {path} on {self.host} was rejected with HTTP {status}: check the API key "
                "and secret, and that the key's ERP user may read this DocType",
                status,
            )
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            raise ErpError(
                f"GET {path} on {self.host} was redirected (HTTP {status}) to {location!r}: "
                "set the ERP link's URL to the address the ERP serves its API on",
                status,
            )
        if status == 404:
            raise ErpNotFound(f"GET {path} on {self.host}: not found (HTTP 404)", status)
        if status != 200:
            raise ErpError(f"GET {path} on {self.host} failed: HTTP {status}", status)
        try:
            return response.json(parse_float=Decimal)
        except (ValueError, json.JSONDecodeError):
            raise ErpError(f"GET {path} on {self.host} returned a body that is not JSON") from None

    # Frappe endpoints.

    def list_documents(
        self,
        doctype,
        fields=("name",),
        filters=None,
        order_by=None,
        limit_start=0,
        limit_page_length=20,
        parent=None,
    ):
        """Return one page of a DocType's list as a list of dicts.

        ``parent`` names the parent DocType when listing a child table such as
        Sales Invoice Item, which Frappe requires.
        """
        params = {
            "fields": json.dumps(list(fields)),
            "limit_start": int(limit_start),
            "limit_page_length": int(limit_page_length),
        }
        if filters is not None:
            params["filters"] = json.dumps(filters, default=str)
        if order_by:
            params["order_by"] = order_by
        if parent:
            params["parent"] = parent
        body = self.request("GET", "/api/resource/" + quote(doctype, safe=""), params)
        return body.get("data", [])

    def get_document(self, doctype, name):
        """Return one document with its child tables."""
        path = f"/api/resource/{quote(doctype, safe='')}/{quote(name, safe='')}"
        return self.request("GET", path).get("data")

    def get_logged_user(self):
        """Return the ERP user the API key belongs to."""
        return self.request("GET", "/api/method/frappe.auth.get_logged_user").get("message")
