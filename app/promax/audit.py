"""Security events: one row in the control plane and one JSON log line each.

Events are written in their own short transaction, so a rejected request
(whose own transaction is rolled back) still leaves its trace.
"""

import json
import logging

from sqlalchemy.exc import SQLAlchemyError

from promax.models.control import AuditEvent

log = logging.getLogger("promax.audit")

# Detail keys that must never be stored, whatever a caller passes.
FORBIDDEN_DETAIL_KEYS = frozenset({"password", "token", "api_key", "api_secret", "secret"})


def record_event(session_factory, event_type, *, organisation_id=None, user_id=None,
                 ip_address="", level=logging.INFO, **detail):
    """Store and log one security event."""
    detail = {k: v for k, v in detail.items() if k not in FORBIDDEN_DETAIL_KEYS}
    encoded = json.dumps(detail, default=str, sort_keys=True)[:2000]

    stored = True
    try:
        with session_factory() as session, session.begin():
            session.add(
                AuditEvent(
                    event_type=event_type,
                    organisation_id=organisation_id,
                    user_id=user_id,
                    ip_address=ip_address or "",
                    detail=encoded,
                )
            )
    except SQLAlchemyError as error:
        # The database may be the thing that failed. The event still reaches
        # the JSON log below, and the request goes on to its error response.
        stored = False
        log.error("audit event not stored", extra={"event": event_type, "error": str(error)})

    log.log(
        level,
        event_type,
        extra={
            "event": event_type,
            "organisation_id": organisation_id,
            "user_id": user_id,
            "ip_address": ip_address,
            "detail": detail,
            "stored": stored,
        },
    )


def record_request_event(request, event_type, level=logging.INFO, **detail):
    """Store an event with the request's client address and, unless given, its identity."""
    identity = request.identity
    organisation_id = detail.pop("organisation_id", identity.organisation_id if identity else None)
    user_id = detail.pop("user_id", identity.user_id if identity else None)
    record_event(
        request.registry["db.session_factory"],
        event_type,
        organisation_id=organisation_id,
        user_id=user_id,
        ip_address=request.client_ip or "",
        level=level,
        request_id=getattr(request, "request_id", None),
        **detail,
    )
