"""The catalog's cache: rendered result pages keyed on a catalog version.

A catalog page costs a count, the page's ids (sorting thousands of listings),
the page's rows and a template of twenty cards: about 45 ms on this hardware,
so two workers serve about 30 pages a second. The same query string gives the
same page for everyone until the catalog changes (or the day changes: the
neutral order is a daily permutation), so the rendered content is cached in
the shared cache under a key made of

* the catalog version: ``CatalogVersion.value``, one row bumped by every
  service that changes what the catalog shows, *in the same transaction* as
  the change (``catalog_version_bump``). A request reads the version before
  it reads the catalog, so whatever it stores under version ``v`` is at least
  as new as ``v``; the first request after a change commits reads ``v + 1``
  and renders afresh. Nothing is ever invalidated by deleting keys, so there
  is no window in which an old page can come back.
* the day, the language, the query string (sorted), and the applicant's
  domicile only when the page sorts by closeness to it.

The cache is ``prakerja.cache.ResilientRedisCache``: while Redis is down the
entries go to the database table instead, still keyed on the version, so a
Redis outage costs speed, never correctness. ``MARKETPLACE_CATALOG_CACHE_SECONDS``
= 0 turns the cache off (the benchmark runs both ways side by side).
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import timezone, translation

from marketplace.models import CatalogVersion

KEY_PREFIX = "marketplace:catalog"


def catalog_version() -> int:
    """The current catalog version: one primary-key read, in plain SQL (it runs on every catalog request)."""
    table = connection.ops.quote_name(CatalogVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {table} WHERE id = 1")  # noqa: S608 - a model's table
        row = cursor.fetchone()
    return row[0] if row else 0


def catalog_version_bump() -> None:
    """Mark the catalog as changed. Call inside the transaction that changes it.

    The row lock is held until that transaction ends, so concurrent catalog
    changes queue here for a moment; catalog reads never wait on it.
    """
    if not CatalogVersion.objects.filter(pk=1).update(value=F("value") + 1):
        CatalogVersion.objects.get_or_create(pk=1)
        CatalogVersion.objects.filter(pk=1).update(value=F("value") + 1)


def cache_enabled() -> bool:
    return settings.MARKETPLACE_CATALOG_CACHE_SECONDS > 0


def page_key(*, version: int, params, domicile, day: datetime.date | None = None) -> str:
    """The cache key of one rendered catalog page (``params`` is ``request.GET``)."""
    day = day or timezone.localdate()
    items = sorted((name, value) for name in params for value in params.getlist(name))
    # The domicile matters only to "sort by distance" without a location from the browser.
    where = ""
    if domicile is not None and "distance" in params.getlist("sort"):
        where = f"{domicile.province_code}|{domicile.regency_code}|{domicile.district_code}"
    digest = hashlib.sha256(repr((items, where)).encode()).hexdigest()[:32]
    language = translation.get_language() or settings.LANGUAGE_CODE
    return f"{KEY_PREFIX}:v{version}:{day.isoformat()}:{language}:{digest}"


def page_get(key: str) -> str | None:
    return cache.get(key)


def page_set(key: str, content: str) -> None:
    cache.set(key, content, settings.MARKETPLACE_CATALOG_CACHE_SECONDS)
