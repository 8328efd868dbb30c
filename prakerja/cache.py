"""The cache: Redis, or a database table while Redis does not answer.

The cache holds rate-limit counters (allauth's login, signup and password-reset
limits, the marketplace's per-IP and per-platform limits) and a few lookups.
If those calls raised while Redis is away, every login would answer 500; if
they were skipped, the limits would silently vanish. So each call that finds
Redis unreachable (connection refused, or no answer within the short socket
timeouts of ``CACHES["default"]["OPTIONS"]``) goes to ``FallbackCacheEntry``,
a database table with Django's database-cache layout, and the next
``FALLBACK_RETRY_SECONDS`` (``CACHE_FALLBACK_RETRY_SECONDS``, 30 s) go there
directly without trying Redis again. Limits therefore keep holding during an
outage, counted from zero in the database; when Redis answers again the
counters there take over. Sessions do not live in the cache at all (database
sessions), so a cache outage never signs anyone out.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

FALLBACK_TABLE = "prakerja_cache_fallback"
FALLBACK_MAX_ENTRIES = 500_000
# Any failure of Redis itself (refused, timed out, garbage on the port, a read-only replica
# during a failover) sends the call to the database: a degraded cache, never a 500.
UNREACHABLE = (redis.RedisError,)

_state_lock = threading.Lock()
# Cache instances are per thread; the outage is shared by every thread of the process.
_down_until: dict[str, float] = {}


def _delegate(name: str):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that falls back to the database table when Redis is unreachable."""

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.fallback_retry_seconds = float(options.pop("FALLBACK_RETRY_SECONDS", 30))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        fallback_params = {key: value for key, value in params.items() if key != "OPTIONS"}
        # Django's default (300 entries, then a third is dropped) would let a flood of keys wipe
        # the rate-limit counters; expired rows go first anyway.
        fallback_params["OPTIONS"] = {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES, "CULL_FREQUENCY": 4}
        self._fallback = DatabaseCache(FALLBACK_TABLE, fallback_params)

    def redis_is_down(self) -> bool:
        return _down_until.get(self._location, 0.0) > time.monotonic()

    def mark_down(self, exc: Exception) -> None:
        """Record that Redis did not answer: every user of this cache skips it for a while."""
        with _state_lock:
            _down_until[self._location] = time.monotonic() + self.fallback_retry_seconds
        logger.warning(
            "cache: Redis unreachable (%s); using the database for %.0f s",
            exc.__class__.__name__,
            self.fallback_retry_seconds,
        )

    def _call(self, name: str, *args, **kwargs):
        if not self.redis_is_down():
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self.mark_down(exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    add = _delegate("add")
    get = _delegate("get")
    set = _delegate("set")
    touch = _delegate("touch")
    delete = _delegate("delete")
    get_many = _delegate("get_many")
    has_key = _delegate("has_key")
    incr = _delegate("incr")
    set_many = _delegate("set_many")
    delete_many = _delegate("delete_many")
    clear = _delegate("clear")


def cache_fallback_reset() -> None:
    """Forget a recorded outage: the next call tries Redis again (tests, and after a failover)."""
    with _state_lock:
        _down_until.clear()
