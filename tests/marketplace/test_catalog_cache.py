"""The catalog's page cache: served from the cache, never stale after a catalog change.

Each test renders a page (so it is cached), changes the catalog through a service
only, and asks again: the change must show on the very next request.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from marketplace import catalog_cache, services
from marketplace.enums import TrainingStatus
from prakerja.roles import Role
from tests.factories import ApplicantFactory, UserFactory
from tests.marketplace.factories import AffiliationFactory, ListingFactory, PlatformFactory

pytestmark = pytest.mark.django_db

CATALOG = "/pelatihan/"


@pytest.fixture
def officer():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    return user


def ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(value) for value in re.findall(r'data-listing-id="(\d+)"', response.content.decode())]


def test_a_repeated_page_is_served_from_the_cache(client, django_assert_num_queries):
    listing = ListingFactory()
    first = client.get(CATALOG, {"sort": "price_asc"})
    with django_assert_num_queries(1):  # the catalog version; no count, ids, rows or platforms
        again = client.get(CATALOG, {"sort": "price_asc"})
    assert ids(first) == ids(again) == [listing.pk]
    # The same content (the page around it has a fresh CSRF token each time).
    results = re.compile(r'<ol class="catalog-list".*?</ol>', re.S)
    assert results.search(first.content.decode()).group() == results.search(again.content.decode()).group()


def test_signed_in_hit_reads_only_session_user_applicant_and_version(client, django_assert_num_queries):
    ListingFactory()
    client.force_login(ApplicantFactory().user)
    client.get(CATALOG)
    with django_assert_num_queries(4):
        assert len(ids(client.get(CATALOG))) == 1


def test_cache_off_renders_every_time(client, settings, django_assert_num_queries):
    settings.MARKETPLACE_CATALOG_CACHE_SECONDS = 0
    ListingFactory()
    client.get(CATALOG)
    with django_assert_num_queries(4):  # platforms, count, page ids, page rows
        client.get(CATALOG)


def test_approving_a_training_shows_it_at_once(client, officer):
    ListingFactory()
    waiting = ListingFactory(training__status=TrainingStatus.IN_REVIEW)
    assert waiting.pk not in ids(client.get(CATALOG))
    services.training_approve(training_id=waiting.training_id, actor=officer)
    assert waiting.pk in ids(client.get(CATALOG))


def test_returning_a_training_to_draft_hides_it_at_once(client, officer):
    listing = ListingFactory()
    assert ids(client.get(CATALOG)) == [listing.pk]
    services.training_reopen(training_id=listing.training_id, actor=officer, reason="Perbaiki judul")
    assert ids(client.get(CATALOG)) == []


def test_a_new_price_and_a_paused_listing_show_at_once(client):
    listing = ListingFactory(price=300_000)
    assert "Rp300.000" in client.get(CATALOG).content.decode()
    services.listing_update(listing_id=listing.pk, price=250_000)
    html = client.get(CATALOG).content.decode()
    assert "Rp250.000" in html and "Rp300.000" not in html
    services.listing_update(listing_id=listing.pk, platform_id=listing.platform_id, is_available=False)
    assert ids(client.get(CATALOG)) == []


def test_a_new_listing_shows_at_once(client, officer):
    training = ListingFactory().training
    platform = PlatformFactory()
    assert len(ids(client.get(CATALOG))) == 1
    created = services.listing_create(
        training_id=training.pk,
        platform_id=platform.pk,
        sku="BARU-1",
        url="https://baru.example/p/1",
        price=200_000,
        actor=officer,
    )
    assert created.pk in ids(client.get(CATALOG))


def test_a_deactivated_platform_and_a_suspended_provider_leave_at_once(client, officer):
    one, two = ListingFactory(), ListingFactory()
    assert sorted(ids(client.get(CATALOG))) == sorted([one.pk, two.pk])
    services.platform_save(platform_id=one.platform_id, actor=officer, active=False)
    assert ids(client.get(CATALOG)) == [two.pk]
    services.provider_suspend(provider_id=two.training.provider_id, actor=officer, reason="Dokumen palsu")
    assert ids(client.get(CATALOG)) == []


def test_provider_name_and_affiliation_changes_show_at_once(client, officer):
    listing = ListingFactory()
    assert "data-affiliated" not in client.get(CATALOG).content.decode()
    services.provider_details_set(
        provider_id=listing.training.provider_id, actor=officer, brand_name="Akademi Cerdas"
    )
    assert "Akademi Cerdas" in client.get(CATALOG).content.decode()
    services.provider_affiliation_record(
        provider_id=listing.training.provider_id,
        platform_id=listing.platform_id,
        relationship="Pemilik yang sama",
        actor=officer,
    )
    assert "data-affiliated" in client.get(CATALOG).content.decode()
    affiliation = listing.training.provider.affiliations.get()
    services.provider_affiliation_remove(affiliation_id=affiliation.pk, actor=officer)
    assert "data-affiliated" not in client.get(CATALOG).content.decode()


def test_new_ratings_change_the_page_and_the_rating_order_at_once(client):
    low, high = ListingFactory(), ListingFactory()
    services.training_rating_set(training_id=low.training_id, average=Decimal("4.0"), count=3)
    services.training_rating_set(training_id=high.training_id, average=Decimal("3.0"), count=3)
    assert ids(client.get(CATALOG, {"sort": "rating"})) == [low.pk, high.pk]
    services.training_ratings_set_bulk(aggregates={high.training_id: (Decimal("4.8"), 10)})
    response = client.get(CATALOG, {"sort": "rating"})
    assert ids(response) == [high.pk, low.pk]
    assert "4,8" in response.content.decode() or "4.8" in response.content.decode()


def test_a_change_that_rolls_back_keeps_the_version(officer):
    listing = ListingFactory()
    before = catalog_cache.catalog_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.listing_update(listing_id=listing.pk, price=100_000)
        raise RuntimeError
    assert catalog_cache.catalog_version() == before
    services.listing_update(listing_id=listing.pk, price=100_000)
    assert catalog_cache.catalog_version() == before + 1


def test_pages_differ_by_language_and_domicile(client):
    offline = ListingFactory(training__offline=True)
    indonesian = client.get(CATALOG, {"sort": "distance"}).content.decode()
    assert "penawaran pelatihan ditemukan" in indonesian
    client.cookies["prakerja_language"] = "en"
    assert "training offer found" in client.get(CATALOG, {"sort": "distance"}).content.decode()
    del client.cookies["prakerja_language"]
    # Closeness to the applicant's own district is theirs alone.
    near = ApplicantFactory(district_id="32.75.02", regency_id="32.75", province_id="32")
    client.force_login(near.user)
    response = client.get(CATALOG, {"sort": "distance"})
    assert ids(response) == [offline.pk]
    assert "di kecamatan Anda" in response.content.decode()
    client.logout()
    assert "di kecamatan Anda" not in client.get(CATALOG, {"sort": "distance"}).content.decode()


def test_tomorrow_is_another_key(rf):
    params = rf.get(CATALOG, {"sort": "price_asc", "page": "2"}).GET
    today = datetime.date(2026, 12, 3)
    key = catalog_cache.page_key(version=5, params=params, domicile=None, day=today)
    assert key == catalog_cache.page_key(
        version=5, params=rf.get(CATALOG, {"page": "2", "sort": "price_asc"}).GET, domicile=None, day=today
    )
    assert key != catalog_cache.page_key(
        version=5, params=params, domicile=None, day=today + datetime.timedelta(days=1)
    )
    assert key != catalog_cache.page_key(version=6, params=params, domicile=None, day=today)


def test_affiliation_factory_rows_are_visible_too(client):
    # Rows written directly (demo loader, factories) bump the version as well.
    listing = ListingFactory()
    client.get(CATALOG)
    AffiliationFactory(provider=listing.training.provider, platform=listing.platform)
    assert "data-affiliated" in client.get(CATALOG).content.decode()


def test_redis_down_pages_come_from_the_database_cache_and_stay_fresh(client, settings, officer):
    from prakerja.cache import cache_fallback_reset
    from prakerja.models import FallbackCacheEntry

    settings.CACHES = {
        "default": {
            "BACKEND": "prakerja.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: refused at once
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, "FALLBACK_RETRY_SECONDS": 30},
        }
    }
    cache_fallback_reset()
    try:
        listing = ListingFactory(price=300_000)
        assert ids(client.get(CATALOG)) == [listing.pk]
        assert FallbackCacheEntry.objects.filter(cache_key__contains="marketplace:catalog").exists()
        assert ids(client.get(CATALOG)) == [listing.pk]
        services.listing_update(listing_id=listing.pk, price=150_000)
        assert "Rp150.000" in client.get(CATALOG).content.decode()
    finally:
        cache_fallback_reset()
