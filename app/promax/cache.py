"""Three cache tiers for per-tab figures, keyed so that no key can be shared by two tenants.

Tier 1 is Memcached with a TTL. A key is
``promax:v1:<tenant schema>:<generation>:<tab>:<scope>:<parameter hash>``,
where the generation joins a tenant-wide counter and a per-tab counter.
Tier 2 is the ``cache_entry`` table in the tenant's own schema, read through
the tenant's own MariaDB account, whose rows expire after
``cache_retention_hours`` and are purged by ``promax cache purge``. Tier 3 is
the computation itself over the mirror tables, which the scheduled sync
fills from the ERP.

A finished sync calls ``invalidate_changes`` with the DocTypes it changed:
the tabs whose figures read them (``TAB_SOURCES``) get a new generation and
lose their tier-2 rows. A tab not listed there is retired by every change.
When Memcached is down, tier 1 reports a miss and tier 2 still serves.
"""

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.exc import SQLAlchemyError

from promax.dashboard.figures import TAB_SOURCES
from promax.models.tenant import CacheEntry
from promax.tenants.schema import schema_name, tenant_connection

log = logging.getLogger(__name__)

KEY_PREFIX = "promax:v1"
# The generation counter shared by every tab missing from TAB_SOURCES.
OTHER_TABS = "*"


def parse_server(address):
    """Return what pymemcache expects: a path for a Unix socket, else (host, port)."""
    if address.startswith("/"):
        return address
    if address.startswith("unix:"):
        return address[len("unix:"):]
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1", int(port))


def _now():
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def affected_tabs(changed_doctypes):
    """Return the listed tabs whose figures read any of the changed DocTypes."""
    changed = set(changed_doctypes)
    return sorted(tab for tab, sources in TAB_SOURCES.items() if changed & set(sources))


class Tier2Cache:
    """The ``cache_entry`` table of each tenant schema, through the tenant's own engine."""

    def __init__(self, tenant_engines, retention_hours):
        self.tenant_engines = tenant_engines
        self.retention = timedelta(hours=retention_hours)

    def _connect(self, organisation_id, begin=False):
        engine = self.tenant_engines.get(organisation_id)
        return tenant_connection(engine, organisation_id, begin=begin)

    def get(self, organisation_id, cache_key):
        try:
            with self._connect(organisation_id) as connection:
                value = connection.execute(
                    select(CacheEntry.value).where(
                        CacheEntry.cache_key == cache_key, CacheEntry.expires_at > _now()
                    )
                ).scalar()
        except SQLAlchemyError as error:
            log.warning("tier-2 cache unavailable",
                        extra={"organisation_id": organisation_id, "error": str(error)})
            return None
        return json.loads(value) if value is not None else None

    def set(self, organisation_id, cache_key, tab, value):
        now = _now()
        statement = mysql_insert(CacheEntry).values(
            cache_key=cache_key,
            tab=tab,
            value=json.dumps(value, default=str).encode(),
            created_at=now,
            expires_at=now + self.retention,
        )
        statement = statement.on_duplicate_key_update(
            value=statement.inserted.value,
            created_at=statement.inserted.created_at,
            expires_at=statement.inserted.expires_at,
        )
        try:
            with self._connect(organisation_id, begin=True) as connection:
                connection.execute(statement)
        except SQLAlchemyError as error:
            log.warning("tier-2 cache not written",
                        extra={"organisation_id": organisation_id, "error": str(error)})

    def discard_tabs(self, organisation_id, tabs):
        """Delete the rows of the given tabs and of every tab missing from TAB_SOURCES."""
        condition = or_(CacheEntry.tab.in_(list(tabs)), CacheEntry.tab.not_in(list(TAB_SOURCES)))
        with self._connect(organisation_id, begin=True) as connection:
            return connection.execute(delete(CacheEntry).where(condition)).rowcount

    def discard_all(self, organisation_id):
        with self._connect(organisation_id, begin=True) as connection:
            return connection.execute(delete(CacheEntry)).rowcount

    def purge_expired(self, organisation_id):
        """Delete the rows past their retention; return how many went."""
        with self._connect(organisation_id, begin=True) as connection:
            return connection.execute(
                delete(CacheEntry).where(CacheEntry.expires_at <= _now())
            ).rowcount


class TenantCache:
    def __init__(self, client, ttl_seconds, tier2=None):
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.tier2 = tier2

    @classmethod
    def from_settings(cls, settings, tenant_engines=None):
        client = Client(
            parse_server(settings.memcached_server),
            connect_timeout=0.5,
            timeout=0.5,
            no_delay=True,
        )
        tier2 = None
        if tenant_engines is not None:
            tier2 = Tier2Cache(tenant_engines, settings.cache_retention_hours)
        return cls(client, settings.cache_ttl_seconds, tier2)

    def _generation_key(self, organisation_id, tab=None):
        # schema_name validates the id, so a key never embeds unchecked text.
        key = f"{KEY_PREFIX}:{schema_name(organisation_id)}:generation"
        return key if tab is None else f"{key}:{tab}"

    def generation(self, organisation_id, tab=None):
        """Return the generation part of a tab's keys, or None when Memcached is down."""
        keys = [self._generation_key(organisation_id)]
        if tab is not None:
            keys.append(self._generation_key(organisation_id, tab if tab in TAB_SOURCES else OTHER_TABS))
        try:
            values = self.client.get_many(keys)
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable", extra={"error": str(error)})
            return None
        numbers = [int(values.get(key) or 0) for key in keys]
        return numbers[0] if tab is None else f"{numbers[0]}.{numbers[1]}"

    def key(self, organisation_id, generation, tab, scope, parameters):
        return f"{KEY_PREFIX}:{schema_name(organisation_id)}:{generation}:{self.local_key(tab, scope, parameters)}"

    @staticmethod
    def local_key(tab, scope, parameters):
        """Return the part of a key under one tenant: tab, scope and parameter hash."""
        digest = hashlib.sha256(
            json.dumps(parameters, sort_keys=True, default=str).encode()
        ).hexdigest()[:32]
        return f"{tab}:{scope}:{digest}"

    def get_json(self, key):
        try:
            value = self.client.get(key)
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable", extra={"error": str(error)})
            return None
        return json.loads(value) if value is not None else None

    def set_json(self, key, value):
        try:
            self.client.set(key, json.dumps(value, default=str).encode(), expire=self.ttl_seconds)
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable", extra={"error": str(error)})

    def _bump(self, key):
        if self.client.incr(key, 1) is None:
            self.client.add(key, b"1", expire=0)

    def invalidate_tenant(self, organisation_id):
        """Retire every cached value of a tenant, in both tiers."""
        ok = True
        try:
            self._bump(self._generation_key(organisation_id))
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable; tenant cache not invalidated",
                        extra={"error": str(error), "organisation_id": organisation_id})
            ok = False
        if self.tier2 is not None:
            self.tier2.discard_all(organisation_id)
        return ok

    def invalidate_changes(self, organisation_id, changed_doctypes):
        """Retire the cached tabs that read any changed DocType; return those tabs."""
        tabs = affected_tabs(changed_doctypes)
        try:
            for tab in [*tabs, OTHER_TABS]:
                self._bump(self._generation_key(organisation_id, tab))
        except (MemcacheError, OSError) as error:
            # NOTE: tier-1 values then live until their TTL ends.
            log.warning("memcached unavailable; tier-1 cache not invalidated",
                        extra={"error": str(error), "organisation_id": organisation_id})
        if self.tier2 is not None:
            self.tier2.discard_tabs(organisation_id, tabs)
        return tabs

    def cached(self, organisation_id, tab, scope, parameters, compute):
        """Return a tab's value from tier 1, else tier 2, else ``compute`` (tier 3)."""
        local = self.local_key(tab, scope, parameters)
        generation = self.generation(organisation_id, tab)
        key = None if generation is None else self.key(organisation_id, generation, tab, scope, parameters)
        if key is not None:
            value = self.get_json(key)
            if value is not None:
                return value
        value = self.tier2.get(organisation_id, local) if self.tier2 is not None else None
        if value is None:
            value = compute()
            if self.tier2 is not None:
                self.tier2.set(organisation_id, local, tab, value)
        if key is not None:
            self.set_json(key, value)
        return value


def includeme(config):
    from promax.tenants.engines import TenantEngines

    settings = config.registry["promax.settings"]
    engines = config.registry.get("tenant.engines")
    if engines is None:
        engines = config.registry["tenant.engines"] = TenantEngines(settings)
    config.registry["cache"] = TenantCache.from_settings(settings, engines)
