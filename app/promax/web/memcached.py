"""A request-scoped view of the Memcached client that batches the request's reads.

Early in a request the rate limiter knows every key the request will read
first: its rate counters, its cached session identity and its tenant's
cache generation. ``prefetch`` fetches them with one ``get_many``, and
later ``get`` calls for those keys are answered from that result. So a warm
request pays one round trip for all of them.

When the prefetch fails, the client counts as down for the rest of the
request: every call raises ``MemcachedDown`` at once, and callers take
their fallback without waiting for another timeout.
"""

from pymemcache.exceptions import MemcacheError

STORAGE_COMMANDS = frozenset(
    {"set", "set_many", "add", "replace", "append", "prepend", "delete", "delete_many", "touch"}
)


class MemcachedDown(MemcacheError):
    """Raised by a request's client after Memcached failed earlier in the same request."""


class RequestMemcached:
    def __init__(self, client):
        self.client = client
        self.down = False
        self.prefetched = {}
        # Round trips that waited for a reply; tests and benchmarks read it.
        self.round_trips = 0

    def prefetch(self, keys):
        """Fetch keys in one round trip; return {key: value} for the keys found.

        Raises MemcacheError or OSError when Memcached cannot be reached.
        """
        self._check()
        try:
            self.round_trips += 1
            found = self.client.get_many(list(keys))
        except (MemcacheError, OSError):
            self.down = True
            raise
        for key in keys:
            self.prefetched[key] = found.get(key)
        return found

    def get(self, key, default=None):
        if key in self.prefetched:
            value = self.prefetched[key]
            return default if value is None else value
        self._check()
        return self._call("get", key, default)

    def get_many(self, keys):
        keys = list(keys)
        if all(key in self.prefetched for key in keys):
            return {key: self.prefetched[key] for key in keys if self.prefetched[key] is not None}
        self._check()
        return self._call("get_many", keys)

    def __getattr__(self, name):
        # set, add, incr, delete, delete_many, version... go to the real client.
        # Calls with noreply=True do not wait for a reply, so they are not
        # counted as round trips.
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            self._check()
            if not self._is_noreply(name, kwargs):
                self.round_trips += 1
            try:
                return method(*args, **kwargs)
            except (MemcacheError, OSError):
                self.down = True
                raise

        return call

    def _is_noreply(self, name, kwargs):
        noreply = kwargs.get("noreply")
        if noreply is None and name in STORAGE_COMMANDS:
            # pymemcache's storage commands use the client's default_noreply
            # (True unless the client was built otherwise).
            return getattr(self.client, "default_noreply", True)
        return bool(noreply)

    def _check(self):
        if self.down:
            raise MemcachedDown("memcached failed earlier in this request")

    def _call(self, name, *args):
        self.round_trips += 1
        try:
            return getattr(self.client, name)(*args)
        except (MemcacheError, OSError):
            self.down = True
            raise


def request_memcached(request):
    return RequestMemcached(request.registry["cache"].client)


def includeme(config):
    config.add_request_method(request_memcached, "memcached", reify=True)
