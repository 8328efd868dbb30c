"""The catalog's fast paths give the same page as rendering it from the database.

Whole anonymous pages from the cache (with the CSRF token and the language switch's
return address filled in per request) and "nearest" from a location (order by
distance in Python, cards from the cache) are compared with the page the cache-off
path renders for the same request: byte for byte, apart from the CSRF token, which
is fresh on every request.
"""

import re
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse

from marketplace import catalog_cache, services
from marketplace.selectors import CatalogQuery, Sort, catalog_listings
from prakerja.slots import Memo, slots_cut, slots_fill, slots_render
from tests.factories import ApplicantFactory
from tests.marketplace.factories import AffiliationFactory, ListingFactory

pytestmark = pytest.mark.django_db

CATALOG = "/pelatihan/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def ids(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'data-listing-id="(\d+)"', html)]


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return TOKEN.sub('name="csrfmiddlewaretoken" value="-"', response.content.decode())


def uncached(client, settings, path: str) -> str:
    seconds = settings.MARKETPLACE_CATALOG_CACHE_SECONDS
    settings.MARKETPLACE_CATALOG_CACHE_SECONDS = 0
    try:
        return page(client, path)
    finally:
        settings.MARKETPLACE_CATALOG_CACHE_SECONDS = seconds


@pytest.fixture
def venues():
    """In-person trainings around Java (two at the same spot), one without coordinates, online ones."""
    spots = [
        ("-6.238300", "106.975600"),  # Bekasi
        ("-6.891500", "107.610700"),  # Bandung
        ("-6.891500", "107.610700"),  # Bandung again: the tie is broken by the neutral key
        ("-7.250400", "112.768800"),  # Surabaya
        ("-6.966700", "110.416700"),  # Semarang
        ("-6.200000", "106.816700"),  # Jakarta
    ]
    listings = [
        ListingFactory(
            training__offline=True,
            training__latitude=Decimal(lat),
            training__longitude=Decimal(lng),
            price=100_000 + 50_000 * n,
        )
        for n, (lat, lng) in enumerate(spots)
    ]
    listings.append(ListingFactory(training__offline=True, training__latitude=None, training__longitude=None))
    listings += [ListingFactory(price=200_000 + n) for n in range(3)]
    AffiliationFactory(provider=listings[1].training.provider, platform=listings[1].platform)
    return listings


NEAREST = [
    "sort=distance&lat=-6.90&lng=107.61",
    "sort=distance&lat=-6.90&lng=107.61&page=2",
    "lng=110.4&sort=distance&lat=-7",
    "sort=distance&lat=-6.24&lng=106.98&page=5",  # the last page: no distance, neutral order
    "sort=distance&lat=-6.24&lng=106.98&page=99",  # out of range: the last page, as before
    "sort=distance&lat=-6.24&lng=106.98&page=abc",
    "sort=distance&lat=-6.2&lng=106.8&mode=offline",
    "sort=distance&lat=-6.2&lng=106.8&q=pelatihan&price_max=300000",
    "sort=distance&lat=-6.2&lng=106.8&category=design",  # nothing matches
    "sort=distance&lat=3.59&lng=98.67&province=32",
]


@pytest.mark.parametrize("signed_in", [False, True])
def test_nearest_is_the_same_page_as_from_the_database(client, settings, venues, signed_in):
    settings.MARKETPLACE_CATALOG_PAGE_SIZE = 2
    if signed_in:
        client.force_login(ApplicantFactory(district_code="32.73.02").user)
    # Signed in, the content is cached and the page rendered around it: a few queries suffice.
    for query in NEAREST if not signed_in else NEAREST[:3]:
        path = f"{CATALOG}?{query}"
        expected = uncached(client, settings, path)
        first = page(client, path)  # renders and caches the page, the order and the cards
        again = page(client, path)  # everything from the cache
        assert first == expected, query
        assert again == expected, query


def test_nearest_distances_order_and_pages_match_the_database_everywhere(client, settings, venues):
    settings.MARKETPLACE_CATALOG_PAGE_SIZE = 3
    for lat, lng in [("-6.9", "107.61"), ("0", "0"), ("-6.2383", "106.9756")]:
        for number in (1, 2, 3, 4):
            path = f"{CATALOG}?sort=distance&lat={lat}&lng={lng}&page={number}"
            assert page(client, path) == uncached(client, settings, path)
    listings = catalog_listings(query=CatalogQuery(sort=Sort.DISTANCE, latitude=-7.5, longitude=112.0))
    expected = list(listings.listings.values_list("pk", flat=True))
    shown = []
    for number in (1, 2, 3, 4):
        shown += ids(page(client, f"{CATALOG}?sort=distance&lat=-7.5&lng=112&page={number}"))
    assert shown == expected and len(shown) == len(venues)


def test_nearest_shows_distances_in_english_too(client, settings, venues):
    client.cookies["prakerja_language"] = "en"
    path = f"{CATALOG}?sort=distance&lat=-6.90&lng=107.61"
    html = page(client, path)
    assert "0.9 km away" in html and "101.7 km away" in html
    assert html == uncached(client, settings, path)
    del client.cookies["prakerja_language"]
    assert "0,9 km dari Anda" in page(client, path)


def test_a_catalog_change_shows_at_once_on_nearest_pages(client, venues):
    path = f"{CATALOG}?sort=distance&lat=-6.90&lng=107.61"
    assert "Rp150.000" in page(client, path)  # Bandung, the nearest
    services.listing_update(listing_id=venues[1].pk, price=90_000)
    html = page(client, path)
    assert "Rp90.000" in html and "Rp150.000" not in html
    services.listing_update(listing_id=venues[1].pk, platform_id=venues[1].platform_id, is_available=False)
    assert venues[1].pk not in ids(page(client, path))


def test_odd_locations_are_rendered_the_ordinary_way(client, settings, venues):
    for query in [
        "sort=distance&lat=1e1&lng=107",
        "sort=distance&lat=abc&lng=107",
        "sort=distance&lat=-6.9&lat=-7&lng=107",
        "sort=distance&lat=-91&lng=107",
        "sort=distance&lat=-6.9",
        "sort=distance&lat=%00&lng=%3Cb%3E",
        "sort=distance&lat=-6.9&lng=107.61&page=%3Cscript%3E",
    ]:
        path = f"{CATALOG}?{query}"
        client.get(path)  # cached the ordinary way
        assert page(client, path) == uncached(client, settings, path), query


def test_a_whole_anonymous_page_from_the_cache_is_the_rendered_page(client, settings, venues):
    settings.MARKETPLACE_CATALOG_PAGE_SIZE = 4
    for query in [
        "",
        "sort=price_asc",
        "q=pelatihan&sort=rating",
        "category=it&page=2",
        "q=%3Cscript%3Ealert(1)%3C/script%3E",
    ]:
        path = f"{CATALOG}?{query}" if query else CATALOG
        expected = uncached(client, settings, path)
        client.get(path)
        assert page(client, path) == expected, query


def test_whole_pages_carry_the_visitors_own_token_and_return_address(client, venues):
    client.get(f"{CATALOG}?sort=price_asc&category=it")  # cached under the sorted parameters
    response = client.get(f"{CATALOG}?category=it&sort=price_asc")
    html = response.content.decode()
    assert '<input name="next" type="hidden" value="/pelatihan/?category=it&amp;sort=price_asc">' in html
    token = TOKEN.search(html).group().split('value="')[1].rstrip('"')
    assert token != TOKEN.search(client.get(f"{CATALOG}?category=it&sort=price_asc").content.decode()).group()
    # The token works: the language switch posts with it under CSRF checks.
    client.handler.enforce_csrf_checks = True
    switched = client.post(
        reverse("set_language"), {"language": "en", "next": CATALOG, "csrfmiddlewaretoken": token}
    )
    assert switched.status_code == 302
    assert "training offers found" in client.get(CATALOG).content.decode()


def test_a_waiting_message_is_shown_not_a_cached_page(client, venues):
    client.get(CATALOG)  # the whole anonymous page is cached
    client.force_login(ApplicantFactory().user)
    client.post("/accounts/logout/")  # "you have signed out", shown on the next page
    html = client.get(CATALOG).content.decode()
    assert '<div class="messages" role="status">' in html
    assert '<div class="messages" role="status">' not in client.get(CATALOG).content.decode()


def test_slots_are_cut_at_random_tokens_only():
    parts = slots_render(lambda t: f"<p>{t['a']} and {t['b']} and slot</p>{t['a']}", ["a", "b"])
    assert parts == ("<p>", "a", " and ", "b", " and slot</p>", "a", "")
    assert slots_fill(parts, {"a": "1", "b": "2"}) == "<p>1 and 2 and slot</p>1"
    assert slots_cut("plain", {}) == ("plain",)
    first, second = (slots_render(lambda t: t["x"], ["x"], numeric=["x"]) for _ in range(2))
    assert first == second == ("", "x", "")


def test_location_of_accepts_plain_decimals_once_each():
    def location(query):
        return catalog_cache.location_of(QueryDict(query))

    assert location("sort=distance&lat=-6.90&lng=107.61").latitude == -6.9
    assert location("sort=distance&lat=-6&lng=107").longitude_text == "107"
    for query in [
        "sort=price_asc&lat=-6.90&lng=107.61",
        "lat=-6.90&lng=107.61",
        "sort=distance&lat=-6.90",
        "sort=distance&lat=-6.90&lng=107.61&lng=1",
        "sort=distance&lat=+6&lng=107",
        "sort=distance&lat=6.&lng=107",
        "sort=distance&lat=90.5&lng=107",
        "sort=distance&lat=6&lng=181",
        "sort=distance&lat=nan&lng=inf",
    ]:
        assert location(query) is None, query


def test_the_process_memo_keeps_the_most_recently_used():
    memo = Memo(2)
    memo.set("a", 1)
    memo.set("b", 2)
    assert memo.get("a") == 1  # "a" used last: "b" goes first
    memo.set("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    memo.clear()
    assert memo.get("a") is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_partial_order_equals_the_full_sort_for_every_page(seed):
    """The partial sort (only as far as a page needs) gives the full sort's order, ties included."""
    import math

    import numpy as np

    rng = np.random.default_rng(seed)
    near = 300
    # Few distinct places and neutral keys: many listings at exactly the same distance and key.
    places = rng.uniform(-8.0, -6.0, (12, 2))
    chosen = places[rng.integers(0, len(places), near)]
    order = catalog_cache.DistanceOrder(
        pks=rng.permutation(np.arange(1000, 1000 + near)).astype(np.int64),
        ties=rng.integers(0, 5, near).astype(np.int64),
        latitudes=chosen[:, 0].copy(),
        longitudes=chosen[:, 1].copy() + 107.0,
        rest=(7, 3, 5),
    )
    latitude, longitude = -7.0, 107.5
    scale = math.cos(math.radians(latitude))
    squared = (order.latitudes - latitude) ** 2 + ((order.longitudes - longitude) * scale) ** 2
    full = np.lexsort((order.pks, order.ties, squared))
    expected = order.pks[full].tolist() + [7, 3, 5]
    for size in (1, 20, 37, 299, 300, 301, 303, 400):
        for start in (0, 20, 280, 299, 300, 302):
            fresh = order.ordered(latitude, longitude)  # a page is read once, from a fresh order
            assert len(fresh) == near + 3
            assert fresh[start : start + size] == expected[start : start + size]
            for position in range(start, min(start + size, near)):
                assert fresh.squared(position) == float(squared[full][position])
            assert fresh.squared(near) is None
    whole = order.ordered(latitude, longitude)
    assert [whole[i] for i in range(near + 3)] == expected
    assert whole[-1] == 5
    with pytest.raises(IndexError):
        whole[near + 3]
