"""Tier-1 cache in Memcached, keyed so that no key can be shared by two tenants.

A key is ``promax:v1:<tenant id>:<generation>:<tab>:<scope>:<parameter hash>``.
Each tenant has a generation counter; a finished sync bumps it, which
retires every cached value of that tenant at once. When Memcached is down
the cache reports a miss and the caller reads the database.
"""

import hashlib
import json
import logging

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError

from promax.tenants.schema import schema_name

log = logging.getLogger(__name__)

KEY_PREFIX = "promax:v1"


def parse_server(address):
    """Return what pymemcache expects: a path for a Unix socket, else (host, port)."""
    if address.startswith("/"):
        return address
    if address.startswith("unix:"):
        return address[len("unix:"):]
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1", int(port))


class TenantCache:
    def __init__(self, client, ttl_seconds):
        self.client = client
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_settings(cls, settings):
        client = Client(
            parse_server(settings.memcached_server),
            connect_timeout=0.5,
            timeout=0.5,
            no_delay=True,
        )
        return cls(client, settings.cache_ttl_seconds)

    def _generation_key(self, organisation_id):
        # schema_name validates the id, so a key never embeds unchecked text.
        return f"{KEY_PREFIX}:{schema_name(organisation_id)}:generation"

    def generation(self, organisation_id):
        try:
            value = self.client.get(self._generation_key(organisation_id))
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable", extra={"error": str(error)})
            return None
        return int(value) if value is not None else 0

    def key(self, organisation_id, generation, tab, scope, parameters):
        digest = hashlib.sha256(
            json.dumps(parameters, sort_keys=True, default=str).encode()
        ).hexdigest()[:32]
        return f"{KEY_PREFIX}:{schema_name(organisation_id)}:{generation}:{tab}:{scope}:{digest}"

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

    def invalidate_tenant(self, organisation_id):
        """Retire every cached value of a tenant by bumping its generation."""
        key = self._generation_key(organisation_id)
        try:
            if self.client.incr(key, 1) is None:
                self.client.add(key, b"1", expire=0)
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable; tenant cache not invalidated",
                        extra={"error": str(error), "organisation_id": organisation_id})
            return False
        return True

    def cached(self, organisation_id, tab, scope, parameters, compute):
        """Return the cached value for a tab, computing and storing it on a miss."""
        generation = self.generation(organisation_id)
        if generation is None:
            return compute()
        key = self.key(organisation_id, generation, tab, scope, parameters)
        value = self.get_json(key)
        if value is None:
            value = compute()
            self.set_json(key, value)
        return value


def includeme(config):
    settings = config.registry["promax.settings"]
    config.registry["cache"] = TenantCache.from_settings(settings)
