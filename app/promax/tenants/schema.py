"""Map an organisation id to its schema, and open connections routed there."""

import re
from contextlib import contextmanager

from promax.models.tenant import TENANT_SCHEMA

SCHEMA_PREFIX = "tenant_"
# Organisation ids are generated uuid4 hex strings. The schema takes the whole
# id, not a prefix, so two organisations can never share a schema.
ORGANISATION_ID = re.compile(r"[0-9a-f]{32}")


class InvalidTenantId(ValueError):
    """Raised when a value that should be an organisation id is not one."""


def schema_name(organisation_id):
    """Return the schema name of an organisation, after validating its id."""
    if not isinstance(organisation_id, str) or not ORGANISATION_ID.fullmatch(organisation_id):
        raise InvalidTenantId(f"invalid organisation id: {organisation_id!r}")
    return SCHEMA_PREFIX + organisation_id


@contextmanager
def tenant_connection(engine, organisation_id, *, begin=False):
    """Open a connection whose tenant tables resolve to the organisation's schema.

    With ``begin=True`` the block runs in one transaction, committed on a
    normal exit and rolled back on an exception.
    """
    translate = {TENANT_SCHEMA: schema_name(organisation_id)}
    with engine.connect() as connection:
        connection = connection.execution_options(schema_translate_map=translate)
        if begin:
            with connection.begin():
                yield connection
        else:
            yield connection
