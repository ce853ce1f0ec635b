"""A threaded WSGI server that serves a Frappe-like REST API over a simulator dataset.

Supported: ``GET /api/resource/<DocType>`` with fields, filters, order_by,
limit_start and limit_page_length; ``GET /api/resource/<DocType>/<name>``;
``GET /api/method/frappe.auth.get_logged_user``. Any other method gets 405
and is counted, so tests can prove a client never sent one. Tests can also
queue error responses (``inject``: 429 with or without Retry-After, 5xx),
slow responses (``inject_delay``) or latency on every request, change
documents through ``app.collections`` (update, cancel, delete, rename ledger
entries), and read the requests in flight per account (API key).
"""

import base64
import binascii
import hmac
import json
import logging
import re
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

log = logging.getLogger(__name__)

LOGGED_USER = "promax-reader@example.com"
DEFAULT_PAGE_LENGTH = 20
OPERATORS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
RESOURCE = re.compile(r"^/api/resource/([^/]+)(?:/(.+))?$")
STATUS_TEXT = {
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    417: "Expectation Failed",
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class RequestError(Exception):
    def __init__(self, status, exc_type, message):
        super().__init__(message)
        self.status = status
        self.exc_type = exc_type


def _to_json(value):
    if isinstance(value, Decimal):
        # Frappe sends currency and float fields as JSON numbers.
        return float(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _coerce(sample, value):
    """Convert a filter value to the type of the field it is compared with."""
    if value is None:
        return None
    if isinstance(sample, datetime):
        text = str(value)
        for layout in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, layout)
            except ValueError:
                continue
        raise RequestError(417, "DataError", f"invalid datetime filter value {text!r}")
    if isinstance(sample, date):
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise RequestError(417, "DataError", f"invalid date filter value {value!r}") from None
    if isinstance(sample, Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise RequestError(417, "DataError", f"invalid number filter value {value!r}") from None
    if isinstance(sample, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise RequestError(417, "DataError", f"invalid integer filter value {value!r}") from None
    return str(value)


# DocType -> the Dataset attribute holding its documents.
TOP_LEVEL_DOCTYPES = {
    "Company": "companies",
    "Customer": "customers",
    "Supplier": "suppliers",
    "Item Group": "item_groups",
    "Item": "items",
    "Warehouse": "warehouses",
    "Account": "accounts",
    "Cost Center": "cost_centers",
    "Sales Invoice": "invoices",
    "Purchase Invoice": "purchase_invoices",
    "Sales Order": "sales_orders",
    "Purchase Order": "purchase_orders",
    "Payment Entry": "payment_entries",
    "GL Entry": "gl_entries",
    "Stock Ledger Entry": "stock_ledger_entries",
    "Bin": "bins",
}
# Child DocType -> its parent DocType; the rows sit under the parent's "items".
CHILD_DOCTYPES = {
    "Sales Invoice Item": "Sales Invoice",
    "Purchase Invoice Item": "Purchase Invoice",
    "Sales Order Item": "Sales Order",
    "Purchase Order Item": "Purchase Order",
}
LEDGER_PREFIXES = {"GL Entry": "ACC-GLE", "Stock Ledger Entry": "MAT-SLE"}


class Collections:
    """The dataset as Frappe DocTypes, with the changes tests make to it.

    Every change sets `modified` from ``next_modified``, a clock that never
    goes backwards and never repeats, as Frappe's does for one document.
    """

    def __init__(self, dataset):
        self.dataset = dataset
        self.lock = threading.Lock()
        self._last_modified = datetime(2026, 1, 1)
        self._renamed = 0

    def rows(self, doctype, parent):
        attribute = TOP_LEVEL_DOCTYPES.get(doctype)
        if attribute is not None:
            return getattr(self.dataset, attribute)
        parent_doctype = CHILD_DOCTYPES.get(doctype)
        if parent_doctype is not None:
            if parent != parent_doctype:
                raise RequestError(
                    403,
                    "PermissionError",
                    f"{doctype} is a child table: name its parent DocType",
                )
            parents = getattr(self.dataset, TOP_LEVEL_DOCTYPES[parent_doctype])
            return [row for document in parents for row in document["items"]]
        raise RequestError(404, "DoesNotExistError", f"DocType {doctype} not found")

    def document(self, doctype, name):
        for row in self.rows(doctype, None):
            if row["name"] == name:
                return row
        raise RequestError(404, "DoesNotExistError", f"{doctype} {name} not found")

    # Changes, as the ERP's users and background jobs make them. Callers hold no lock.

    def next_modified(self):
        now = datetime.now()
        self._last_modified = max(now, self._last_modified + timedelta(microseconds=1))
        return self._last_modified

    def _touch(self, document):
        document["modified"] = self.next_modified()
        for row in document.get("items", ()):
            row["modified"] = document["modified"]

    def update_document(self, doctype, name, **fields):
        """Change fields of a document and bump its `modified`; return the document."""
        with self.lock:
            document = self.document(doctype, name)
            document.update(fields)
            self._touch(document)
            return document

    def cancel_document(self, doctype, name):
        """Cancel a submitted document: docstatus 2, and its ledger entries marked cancelled."""
        with self.lock:
            document = self.document(doctype, name)
            document["docstatus"] = 2
            document["status"] = "Cancelled"
            self._touch(document)
            for ledger in ("gl_entries", "stock_ledger_entries"):
                for entry in getattr(self.dataset, ledger):
                    if entry["voucher_type"] == doctype and entry["voucher_no"] == name:
                        entry["is_cancelled"] = 1
                        entry["modified"] = self.next_modified()
            return document

    def delete_document(self, doctype, name):
        """Delete a document, as Frappe does for drafts and cancelled documents."""
        with self.lock:
            rows = self.rows(doctype, None)
            document = self.document(doctype, name)
            rows.remove(document)
            return document

    def rename_ledger_entries(self, doctype, count):
        """Give ``count`` entries with hash names their final series names; return (old, new) pairs."""
        prefix = LEDGER_PREFIXES[doctype]
        renamed = []
        with self.lock:
            for entry in self.rows(doctype, None):
                if len(renamed) == count:
                    break
                if entry["name"].startswith(prefix):
                    continue
                self._renamed += 1
                old = entry["name"]
                entry["name"] = f"{prefix}-2026-{self._renamed:07d}"
                entry["modified"] = self.next_modified()
                renamed.append((old, entry["name"]))
        return renamed


def _parse_json_param(params, key, default):
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise RequestError(417, "ValidationError", f"{key} is not valid JSON") from None


def _normalise_filters(filters):
    if isinstance(filters, dict):
        result = []
        for field, value in filters.items():
            if isinstance(value, list) and len(value) == 2 and value[0] in OPERATORS | {"in": 0}:
                result.append([field, value[0], value[1]])
            else:
                result.append([field, "=", value])
        return result
    if isinstance(filters, list):
        result = []
        for entry in filters:
            if not isinstance(entry, list) or len(entry) not in (3, 4):
                raise RequestError(417, "ValidationError", f"invalid filter {entry!r}")
            result.append(entry[-3:])
        return result
    raise RequestError(417, "ValidationError", "filters must be a JSON list or object")


def _prepare_in(sample_row, entry):
    """Convert the value list of an ``in`` filter to a set once, not once per row."""
    field, operator, value = entry
    if operator != "in" or field not in sample_row:
        return entry
    values = value.split(",") if isinstance(value, str) else list(value)
    return [field, operator, {_coerce(sample_row[field], each) for each in values}]


def _matches(row, filters):
    for field, operator, value in filters:
        if field not in row:
            raise RequestError(417, "DataError", f"Unknown column {field!r}")
        actual = row[field]
        if operator == "in":
            if actual not in value:
                return False
            continue
        compare = OPERATORS.get(operator)
        if compare is None:
            raise RequestError(417, "ValidationError", f"unsupported filter operator {operator!r}")
        expected = _coerce(actual, value)
        if actual is None or expected is None:
            if not (operator == "=" and actual is expected) and not (
                operator == "!=" and (actual is None) != (expected is None)
            ):
                return False
            continue
        if not compare(actual, expected):
            return False
    return True


def _sort(rows, order_by):
    keys = []
    for part in order_by.split(","):
        words = part.strip().replace("`", "").split()
        if not words:
            continue
        field = words[0].rsplit(".", 1)[-1]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if direction not in ("asc", "desc") or len(words) > 2:
            raise RequestError(417, "ValidationError", f"invalid order_by {order_by!r}")
        keys.append((field, direction == "desc"))
    for field, descending in reversed(keys):
        if rows and field not in rows[0]:
            raise RequestError(417, "DataError", f"Unknown column {field!r}")
        rows = sorted(rows, key=lambda row: (row[field] is not None, row[field]), reverse=descending)
    return rows


def _project(row, fields):
    if fields == ["*"]:
        return {key: value for key, value in row.items() if not isinstance(value, list)}
    projected = {}
    for field in fields:
        if field not in row:
            raise RequestError(417, "DataError", f"Unknown column {field!r}")
        projected[field] = row[field]
    return projected


class SimulatorApp:
    """The WSGI application; ``stats`` records what clients sent."""

    def __init__(self, dataset, api_key, api_secret, latency_seconds=0.0):
        self.collections = Collections(dataset)
        self.api_key = api_key
        self.api_secret = api_secret
        # API key -> secret of every ERP account the simulator accepts.
        self.accounts = {api_key: api_secret}
        self.latency_seconds = latency_seconds
        self.lock = threading.Lock()
        self.methods = Counter()
        self.rejected_methods = 0
        self.in_flight = 0
        self.max_in_flight = 0
        # Authenticated requests in flight per API key, and the maximum seen.
        self.in_flight_by_account = Counter()
        self.max_in_flight_by_account = Counter()
        self.requests_by_account = Counter()
        # (monotonic time, status, path) of every request, for timing checks.
        self.timeline = []
        self._injected = []
        self._delays = []

    def add_account(self, api_key, api_secret):
        """Accept one more ERP account (API key and secret)."""
        with self.lock:
            self.accounts[api_key] = api_secret

    def inject(self, status, count=1, retry_after=None):
        """Respond to the next ``count`` authenticated GET requests with ``status``.

        Status 200 queues normal responses, to space injected errors out.
        """
        with self.lock:
            self._injected.extend([(status, retry_after)] * count)

    def inject_delay(self, seconds, count=1):
        """Delay the next ``count`` authenticated GET requests by ``seconds`` each."""
        with self.lock:
            self._delays.extend([seconds] * count)

    def _account(self, header):
        """Return the API key of valid credentials in an Authorization header, else None."""
        scheme, _, credentials = (header or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                credentials = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
        elif scheme.lower() != "token":
            return None
        key, _, secret = credentials.partition(":")
        expected = self.accounts.get(key)
        if expected is None or not hmac.compare_digest(secret.encode(), expected.encode()):
            return None
        return key

    def __call__(self, environ, start_response):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, headers, body = self._handle(environ)
        finally:
            with self.lock:
                self.in_flight -= 1
        with self.lock:
            self.timeline.append((time.monotonic(), status, environ.get("PATH_INFO", "")))
        payload = json.dumps(body, default=_to_json).encode("utf-8")
        headers = headers + [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
        ]
        start_response(f"{status} {STATUS_TEXT.get(status, 'Error')}", headers)
        return [payload]

    def _handle(self, environ):
        method = environ["REQUEST_METHOD"].upper()
        with self.lock:
            self.methods[method] += 1
        if method != "GET":
            with self.lock:
                self.rejected_methods += 1
            return 405, [], {"exc_type": "MethodNotAllowed", "message": "read-only simulator"}
        account = self._account(environ.get("HTTP_AUTHORIZATION"))
        if account is None:
            return 401, [], {"exc_type": "AuthenticationError", "message": "Invalid credentials"}
        with self.lock:
            self.requests_by_account[account] += 1
            self.in_flight_by_account[account] += 1
            self.max_in_flight_by_account[account] = max(
                self.max_in_flight_by_account[account], self.in_flight_by_account[account]
            )
        try:
            return self._handle_authenticated(environ)
        finally:
            with self.lock:
                self.in_flight_by_account[account] -= 1

    def _handle_authenticated(self, environ):
        with self.lock:
            delay = self._delays.pop(0) if self._delays else 0.0
        if self.latency_seconds or delay:
            time.sleep(self.latency_seconds + delay)
        with self.lock:
            injected = self._injected.pop(0) if self._injected else None
        # An injected 200 serves the request normally, so tests can space errors out.
        if injected is not None and injected[0] != 200:
            status, retry_after = injected
            headers = [] if retry_after is None else [("Retry-After", str(retry_after))]
            body = {"exc_type": "TooManyRequestsError" if status == 429 else "ServerError"}
            return status, headers, body

        path = environ.get("PATH_INFO", "")
        params = {key: values[-1] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if path == "/api/method/frappe.auth.get_logged_user":
                return 200, [], {"message": LOGGED_USER}
            match = RESOURCE.match(path)
            if match is None:
                raise RequestError(404, "DoesNotExistError", f"no route for {path}")
            doctype = unquote(match.group(1))
            if match.group(2) is not None:
                return 200, [], {"data": self._document(doctype, unquote(match.group(2)))}
            return 200, [], {"data": self._list(doctype, params)}
        except RequestError as error:
            return error.status, [], {"exc_type": error.exc_type, "message": str(error)}

    def _document(self, doctype, name):
        with self.collections.lock:
            row = self.collections.document(doctype, name)
            return dict(row)

    def _list(self, doctype, params):
        fields = _parse_json_param(params, "fields", ["name"])
        filters = _normalise_filters(_parse_json_param(params, "filters", []))
        order_by = params.get("order_by") or "modified desc"
        try:
            start = int(params.get("limit_start", 0))
            length = int(params.get("limit_page_length", DEFAULT_PAGE_LENGTH))
        except ValueError:
            raise RequestError(
                417, "ValidationError", "limit_start and limit_page_length must be integers"
            ) from None
        with self.collections.lock:
            rows = self.collections.rows(doctype, params.get("parent"))
            if rows:
                filters = [_prepare_in(rows[0], entry) for entry in filters]
            selected = [row for row in rows if _matches(row, filters)]
            selected = _sort(selected, order_by)
            page = selected[start : start + length] if length else selected[start:]
            return [_project(row, fields) for row in page]


class _QuietHandler(WSGIRequestHandler):
    """Log each request as a debug record instead of a line on stderr."""

    def log_message(self, format, *args):
        log.debug("simulator request", extra={"client": self.client_address[0], "line": format % args})


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # Many sync clients connect at once; the default backlog of 5 drops some.
    request_queue_size = 64


class Simulator:
    """A simulator listening on host:port (port 0 picks a free one), served by a thread."""

    def __init__(self, dataset, api_key, api_secret, host="127.0.0.1", port=0, latency_seconds=0.0):
        self.app = SimulatorApp(dataset, api_key, api_secret, latency_seconds)
        self.server = make_server(
            host, port, self.app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.thread = None

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def serve_forever(self):
        self.server.serve_forever()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(5)
