"""Engines that connect as one tenant's own MariaDB account, cached per process.

Each engine uses the control-plane URL's host, port or socket and options,
with the tenant's account, password and schema in place of the control-plane
ones. Its pool is small (``tenant_pool_size`` connections, plus as many
again on overflow), and at most ``tenant_engine_cache_size`` engines stay
open per process, the least recently used being closed first. Per gunicorn
worker that bounds tenant connections to cache size x 2 x pool size.
"""

import threading
from collections import OrderedDict

from sqlalchemy.engine import make_url

from promax.db import make_engine
from promax.models.tenant import TENANT_SCHEMA
from promax.tenants.accounts import account_name, derive_password
from promax.tenants.schema import schema_name


def tenant_url(settings, organisation_id):
    """Return the URL of an organisation's own account and schema (with its password)."""
    return make_url(settings.database_url).set(
        username=account_name(organisation_id),
        password=derive_password(settings, organisation_id),
        database=schema_name(organisation_id),
    )


class TenantEngines:
    """A bounded, thread-safe cache of per-tenant engines."""

    def __init__(self, settings):
        self.settings = settings
        self.max_engines = settings.tenant_engine_cache_size
        self._engines = OrderedDict()
        self._lock = threading.Lock()

    def get(self, organisation_id):
        """Return the engine of an organisation; its tenant tables map to the tenant's schema."""
        schema = schema_name(organisation_id)
        with self._lock:
            engine = self._engines.get(organisation_id)
            if engine is not None:
                self._engines.move_to_end(organisation_id)
                return engine
            base = make_engine(
                tenant_url(self.settings, organisation_id),
                pool_size=self.settings.tenant_pool_size,
                max_overflow=self.settings.tenant_pool_size,
            )
            engine = base.execution_options(schema_translate_map={TENANT_SCHEMA: schema})
            self._engines[organisation_id] = engine
            while len(self._engines) > self.max_engines:
                _, evicted = self._engines.popitem(last=False)
                # Checked-out connections stay usable; dispose closes idle ones.
                evicted.dispose()
            return engine

    def discard(self, organisation_id):
        """Close and forget an organisation's engine (after its account is dropped)."""
        with self._lock:
            engine = self._engines.pop(organisation_id, None)
        if engine is not None:
            engine.dispose()

    def dispose(self):
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.dispose()
