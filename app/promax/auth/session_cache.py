"""Session identities cached in Memcached, so a warm request reads no database row.

An entry ``promax:v1:session:<session id>`` holds the Identity that
``sessions.load_identity`` built, with the session's expiry, for at most
TTL_SECONDS. Every worker reads the same entry, so dropping it ends the
cached session on every worker at once.

Invalidation: code that revokes a session or changes what a user may do
adds session ids to ``sessions.stale_session_ids``. After the transaction
commits, ``drop_stale_identities`` deletes their entries with one
``delete_many``. Deleting after the commit means a worker that misses the
entry afterwards reads the revoked row, not the old one.

When that delete fails (Memcached timed out but still holds the entry), the
revoked session stays usable for at most TTL_SECONDS on requests served from
the cache. The failure is logged at error level with the session ids. While
Memcached is down nobody reads the entries, so identities come from MariaDB.

NOTE: a worker that read the session row just before the revoking commit
can store its entry just after the delete. That entry also lives at most
TTL_SECONDS; closing the gap would need a version check on every read.
"""

import json
import logging
import time
from datetime import UTC

from pymemcache.exceptions import MemcacheError
from sqlalchemy import event

from promax.auth import sessions

log = logging.getLogger(__name__)

KEY_PREFIX = "promax:v1:session"
# Also bounds how often last_seen_at is written, since a miss reloads the row.
TTL_SECONDS = 60


def session_key(session_id):
    # Session ids in tokens are 32 hex characters; tokens.decode_token checks it.
    return f"{KEY_PREFIX}:{session_id}"


def encode_identity(identity, expires_at):
    entry = {
        "user_id": identity.user_id,
        "organisation_id": identity.organisation_id,
        "organisation_slug": identity.organisation_slug,
        "organisation_name": identity.organisation_name,
        "session_id": identity.session_id,
        "email": identity.email,
        "display_name": identity.display_name,
        "role": identity.role,
        "must_enrol_2fa": identity.must_enrol_2fa,
        "permissions": sorted(identity.permissions),
        "department_id": identity.department_id,
        "expires_at": expires_at.timestamp() if expires_at else 0,
    }
    return json.dumps(entry).encode()


def decode_identity(value, claims, now=None):
    """Return the cached Identity if it matches the token's claims and has not expired."""
    try:
        entry = json.loads(value)
        expires_at = entry.pop("expires_at")
        entry["permissions"] = frozenset(entry["permissions"])
        identity = sessions.Identity(**entry)
    except (ValueError, KeyError, TypeError):
        log.warning("cached session identity is malformed; reading the database instead")
        return None
    if (identity.session_id, identity.user_id, identity.organisation_id) != (
        claims.session_id, claims.user_id, claims.organisation_id
    ):
        return None
    if (now or time.time()) >= expires_at:
        return None
    return identity


class SessionCache:
    def load(self, request, claims):
        """Return the live Identity for verified claims, from Memcached when possible."""
        key = session_key(claims.session_id)
        memcached = request.memcached
        try:
            value = memcached.get(key)
        except (MemcacheError, OSError) as error:
            log.warning("memcached unavailable; loading the session from the database",
                        extra={"error": str(error)})
            value = None
        if value is not None:
            identity = decode_identity(value, claims)
            if identity is not None:
                return identity

        loaded = sessions.load_identity(request.dbsession, claims)
        if loaded is None:
            return None
        identity, expires_at = loaded
        # The database stores naive UTC; timestamp() needs the zone to be explicit.
        expires_at = expires_at.replace(tzinfo=UTC)
        try:
            memcached.set(key, encode_identity(identity, expires_at), expire=TTL_SECONDS,
                          noreply=True)
        except (MemcacheError, OSError):
            pass  # the next request reads the database again
        return identity


def drop_stale_identities(client, session_ids):
    """Delete the cached identities of sessions; log at error level when that fails."""
    keys = [session_key(session_id) for session_id in sorted(session_ids)]
    try:
        client.delete_many(keys, noreply=False)
    except (MemcacheError, OSError) as error:
        log.error(
            "memcached delete failed; revoked or changed sessions may stay cached "
            f"for up to {TTL_SECONDS} s",
            extra={"error": str(error), "session_ids": sorted(session_ids)},
        )


def includeme(config):
    registry = config.registry
    registry["session_cache"] = SessionCache()
    client = registry["cache"].client

    def after_commit(dbsession):
        stale = dbsession.info.pop("promax.stale_session_ids", None)
        if stale:
            drop_stale_identities(client, stale)

    def after_rollback(dbsession):
        dbsession.info.pop("promax.stale_session_ids", None)

    factory = registry["db.session_factory"]
    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", lambda dbsession, _previous: after_rollback(dbsession))
