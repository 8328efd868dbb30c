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

Three more things make a hit cheap (``marketplace/views.py``):

* Anonymous visitors (no messages waiting) get the *whole page* from the cache, with
  slots for the two things in it that are theirs alone: the CSRF token of the
  language switch and the address it returns to (``prakerja/slots.py``). No
  template runs on a hit.
* "Nearest" with the browser's location: nearly every location is new, so a page
  keyed on it would always miss. Instead the filtered listings' coordinates and
  neutral keys are cached per catalog version (``DistanceOrder``) and ordered by
  distance in Python, with exactly the arithmetic the database query uses; the
  page around the results is cached with the location as slots, and each
  listing's card is rendered once per version and language, with the distance
  as a slot.
* A per-process memo in front of the shared cache. Its keys carry the catalog
  version like the shared cache's, so it can never serve an older catalog either.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import timezone, translation

from marketplace.models import CatalogVersion
from prakerja.slots import Memo, Parts

# Per process, keyed on the version like the shared cache, bounded in memory: pages (as
# slot parts, 20-60 kB each), distance orders (up to ~300 kB each), cards (~1.5 kB each).
memo = Memo(256)
order_memo = Memo(32)
card_memo = Memo(10_000)

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


def page_key(
    *,
    version: int,
    params,
    domicile,
    day: datetime.date | None = None,
    whole: bool = False,
    location: bool = False,
    page_number: int | list[str] | None = None,
) -> str:
    """The cache key of one rendered catalog page (``params`` is ``request.GET``).

    ``whole``: the whole page for an anonymous visitor, not only the content.
    ``location``: the page of a "nearest" with a location; the location is a slot,
    so it is left out of the key, and the page number is the one shown.
    """
    day = day or timezone.localdate()
    # In the order given (the page's links repeat the parameters in that order), except the
    # page number, which the links leave out.
    items = [
        (name, ["@"] * len(values) if location and name in LOCATION_FIELDS else values)
        for name, values in params.lists()
        if name != "page"
    ]
    if not location:
        page_number = params.getlist("page")
    # The domicile matters only to "sort by distance" without a location from the browser.
    where = ""
    if domicile is not None and "distance" in params.getlist("sort") and not location:
        where = f"{domicile.province_code}|{domicile.regency_code}|{domicile.district_code}"
    digest = hashlib.sha256(repr((items, where, page_number)).encode()).hexdigest()[:32]
    language = translation.get_language() or settings.LANGUAGE_CODE
    kind = ("page" if whole else "content") + ("-near" if location else "")
    return f"{KEY_PREFIX}:v{version}:{day.isoformat()}:{language}:{kind}:{digest}"


def page_get(key: str) -> Parts | None:
    parts = memo.get(key)
    if parts is None:
        parts = cache.get(key)
        if parts is not None:
            memo.set(key, parts)
    return parts


def page_set(key: str, parts: Parts) -> None:
    memo.set(key, parts)
    cache.set(key, parts, settings.MARKETPLACE_CATALOG_CACHE_SECONDS)


def memo_clear() -> None:
    """Forget this process's memo (tests: a rolled-back database reuses version numbers)."""
    memo.clear()
    order_memo.clear()
    card_memo.clear()


# --- "Nearest" with the browser's location ---------------------------------------------

LOCATION_FIELDS = ("lat", "lng")
# What the page's script sends (toFixed(2)), and any plain decimal: the same text is then
# right in the hidden inputs and in the page links, unescaped and unencoded.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,12})?")
# Which query parameters decide the set of listings (the rest: sort, location, page).
FILTER_PARAMS = ("q", "category", "level", "mode", "platform", "price_min", "price_max", "province")


@dataclass(frozen=True)
class Location:
    latitude_text: str
    longitude_text: str
    latitude: float
    longitude: float


def location_of(params) -> Location | None:
    """The browser's location when the page sorts by distance from it, given as plain decimals once each.

    Anything else (no location, a repeated or odd value) is rendered the ordinary way.
    """
    if params.get("sort") != "distance":
        return None
    lat, lng = params.getlist("lat"), params.getlist("lng")
    if len(lat) != 1 or len(lng) != 1:
        return None
    lat_text, lng_text = lat[0], lng[0]
    if not (_PLAIN_DECIMAL.fullmatch(lat_text) and _PLAIN_DECIMAL.fullmatch(lng_text)):
        return None
    latitude, longitude = float(lat_text), float(lng_text)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Location(lat_text, lng_text, latitude, longitude)


@dataclass(frozen=True)
class DistanceOrder:
    """The filtered listings of one catalog version, as the distance sort needs them.

    ``pks``/``ties``/``latitudes``/``longitudes``: in-person listings with coordinates;
    ``rest``: every other listing (no distance: after those), already in neutral order.
    """

    pks: np.ndarray
    ties: np.ndarray
    latitudes: np.ndarray
    longitudes: np.ndarray
    rest: tuple[int, ...]

    @classmethod
    def from_rows(cls, rows) -> DistanceOrder:
        """``rows``: (pk, tie, mode, latitude, longitude) in neutral order (tie, pk)."""
        near, rest = [], []
        for pk, tie, mode, latitude, longitude in rows:
            if mode == "offline" and latitude is not None and longitude is not None:
                near.append((pk, tie, float(latitude), float(longitude)))
            else:
                rest.append(pk)
        return cls(
            pks=np.array([row[0] for row in near], dtype=np.int64),
            ties=np.array([row[1] for row in near], dtype=np.int64),
            latitudes=np.array([row[2] for row in near], dtype=np.float64),
            longitudes=np.array([row[3] for row in near], dtype=np.float64),
            rest=tuple(rest),
        )

    @property
    def count(self) -> int:
        return len(self.pks) + len(self.rest)

    def ordered(self, latitude: float, longitude: float) -> NearestOrder:
        """Every pk nearest first, as ``catalog_listings`` orders them, sorted only as far as asked.

        The same arithmetic, in the same order, as ``selectors._squared_degrees`` in SQL
        (IEEE doubles both), then ties by the neutral key and the pk.
        """
        scale = math.cos(math.radians(latitude))
        dlat = self.latitudes - latitude
        dlon = (self.longitudes - longitude) * scale
        return NearestOrder(self, dlat * dlat + dlon * dlon)


class NearestOrder(Sequence):
    """The pks of a ``DistanceOrder`` nearest first, as a sequence a ``Paginator`` can slice.

    A page needs only the listings up to its end: those are picked with a partial sort
    (``argpartition``, then the full ordering of every listing at most as far as the last one
    picked, ties included), so a request for an early page does not sort the whole catalog.
    """

    def __init__(self, order: DistanceOrder, squared: np.ndarray) -> None:
        self._order = order
        self._squared = squared
        self._sorted = np.empty(0, dtype=np.int64)  # positions into order.pks, nearest first

    def __len__(self) -> int:
        return self._order.count

    def _sort_through(self, end: int) -> None:
        near = len(self._squared)
        end = min(end, near)
        if end <= len(self._sorted):
            return
        order, squared = self._order, self._squared
        if end < near:
            # Every listing no farther than the end-th nearest, ties at that distance included.
            bound = squared[np.argpartition(squared, end - 1)[:end]].max()
            candidates = np.flatnonzero(squared <= bound)
        else:
            candidates = np.arange(near)
        # Everything left out is farther than every candidate: the sorted candidates are a prefix
        # of the whole order.
        self._sorted = candidates[
            np.lexsort((order.pks[candidates], order.ties[candidates], squared[candidates]))
        ]

    def __getitem__(self, item):
        if isinstance(item, slice):
            start, stop, step = item.indices(len(self))
            self._sort_through(stop)
            return [self[i] for i in range(start, stop, step)]
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError(item)
        near = len(self._squared)
        if item >= near:
            return self._order.rest[item - near]
        self._sort_through(item + 1)
        return int(self._order.pks[self._sorted[item]])

    def squared(self, position: int) -> float | None:
        """The squared distance (degrees) of the listing at ``position``; None past those with one."""
        if position >= len(self._squared):
            return None
        self._sort_through(position + 1)
        return float(self._squared[self._sorted[position]])


def distance_order_key(*, version: int, params, day: datetime.date | None = None) -> str:
    day = day or timezone.localdate()
    items = sorted((name, value) for name in FILTER_PARAMS for value in params.getlist(name))
    digest = hashlib.sha256(repr(items).encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:v{version}:{day.isoformat()}:distance-order:{digest}"


def distance_order_get(key: str, build) -> DistanceOrder:
    order = order_memo.get(key)
    if order is None:
        order = cache.get(key)
        if order is None:
            order = build()
            cache.set(key, order, settings.MARKETPLACE_CATALOG_CACHE_SECONDS)
        order_memo.set(key, order)
    return order


# --- Cards: one listing as the result list shows it --------------------------------------


def card_key(*, version: int, pk: int, variant: str) -> str:
    language = translation.get_language() or settings.LANGUAGE_CODE
    return f"{KEY_PREFIX}:v{version}:{language}:card:{variant}:{pk}"


def cards_get(keys: list[str]) -> dict[str, Parts]:
    found = {}
    missing = []
    for key in keys:
        parts = card_memo.get(key)
        if parts is None:
            missing.append(key)
        else:
            found[key] = parts
    if missing:
        for key, parts in cache.get_many(missing).items():
            card_memo.set(key, parts)
            found[key] = parts
    return found


def cards_set(cards: dict[str, Parts]) -> None:
    for key, parts in cards.items():
        card_memo.set(key, parts)
    cache.set_many(cards, settings.MARKETPLACE_CATALOG_CACHE_SECONDS)
