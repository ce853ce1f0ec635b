"""Structured logging: one JSON object per line on stderr.

systemd's journal and the log rotation read these lines as they are, and
auditors can filter them with jq. Secrets are never passed to a logger, but
known secret-bearing keys are masked here as a second line of defence.
"""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

# The id of the request being served, set by the security-headers tween; every
# log line written while it runs carries it.
current_request_id = ContextVar("current_request_id", default=None)

MASKED_KEYS = frozenset(
    {"password", "api_secret", "api_key", "secret", "token", "authorization", "jwt_secret"}
)
STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """Format a record as a JSON line with its `extra` fields."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in STANDARD_ATTRIBUTES or key.startswith("_"):
                continue
            entry[key] = "***" if key.lower() in MASKED_KEYS else value
        if "request_id" not in entry:
            request_id = current_request_id.get()
            if request_id is not None:
                entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level="INFO", stream=None):
    """Send every log record of the process to `stream` as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
