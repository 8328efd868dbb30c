import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.enums import ProviderStatus, TrainingCategory, TrainingLevel, TrainingMode, TrainingStatus
from marketplace.selectors import CatalogQuery, catalog_listings
from tests.factories import ApplicantFactory
from tests.marketplace.factories import (
    AffiliationFactory,
    ListingFactory,
    PlatformFactory,
    TrainingFactory,
    TrainingSessionFactory,
)

pytestmark = pytest.mark.django_db

CATALOG = "/pelatihan/"


def result_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(value) for value in re.findall(r'data-listing-id="(\d+)"', response.content.decode())]


def test_catalog_is_public_and_indonesian(client):
    listing = ListingFactory(training__title="Desain Grafis dengan Canva")
    response = client.get(CATALOG)
    html = response.content.decode()
    assert result_ids(response) == [listing.pk]
    assert "Katalog pelatihan" in html
    assert "Desain Grafis dengan Canva" in html
    assert "Rp300.000" in html
    assert "1 penawaran pelatihan ditemukan" in html


def test_only_approved_trainings_of_verified_providers_on_active_platforms_are_listed(client):
    visible = ListingFactory()
    ListingFactory(training__status=TrainingStatus.DRAFT)
    ListingFactory(training__status=TrainingStatus.IN_REVIEW)
    ListingFactory(training__status=TrainingStatus.REJECTED)
    ListingFactory(training__provider__status=ProviderStatus.APPLIED)
    ListingFactory(training__provider__status=ProviderStatus.SUSPENDED)
    ListingFactory(training__provider__status=ProviderStatus.REJECTED)
    ListingFactory(platform__active=False)
    ListingFactory(is_available=False)
    assert result_ids(client.get(CATALOG)) == [visible.pk]


def test_hidden_training_pages_are_not_found(client):
    draft = TrainingFactory(status=TrainingStatus.DRAFT)
    suspended = TrainingFactory(provider__status=ProviderStatus.SUSPENDED)
    for training in (draft, suspended):
        response = client.get(reverse("marketplace:training_detail", args=[training.pk]))
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("param", "value", "match", "other"),
    [
        ("category", "design", {"category": TrainingCategory.DESIGN}, {"category": TrainingCategory.IT}),
        ("level", "advanced", {"level": TrainingLevel.ADVANCED}, {"level": TrainingLevel.BASIC}),
        ("mode", "webinar", {"mode": TrainingMode.WEBINAR}, {"mode": TrainingMode.SELF_PACED}),
    ],
)
def test_training_filters(client, param, value, match, other):
    wanted = ListingFactory(**{f"training__{k}": v for k, v in match.items()})
    ListingFactory(**{f"training__{k}": v for k, v in other.items()})
    assert result_ids(client.get(CATALOG, {param: value})) == [wanted.pk]


def test_platform_filter(client):
    wanted = ListingFactory(platform=PlatformFactory(slug="pijar-mahir", name="Pijar Mahir"))
    ListingFactory(platform=PlatformFactory(slug="bukalapak", name="Bukalapak"))
    assert result_ids(client.get(CATALOG, {"platform": "pijar-mahir"})) == [wanted.pk]


def test_price_range_filter_is_inclusive(client):
    cheap = ListingFactory(price=100_000, training__price=100_000)
    middle = ListingFactory(price=250_000, training__price=250_000)
    ListingFactory(price=500_000, training__price=500_000)
    response = client.get(CATALOG, {"price_min": 100_000, "price_max": 250_000, "sort": "price_asc"})
    assert result_ids(response) == [cheap.pk, middle.pk]


def test_swapped_price_range_is_understood(client):
    middle = ListingFactory(price=250_000, training__price=250_000)
    ListingFactory(price=500_000, training__price=500_000)
    assert result_ids(client.get(CATALOG, {"price_min": 300_000, "price_max": 200_000})) == [middle.pk]


def test_province_filter_keeps_in_person_trainings_there(client):
    bekasi = ListingFactory(training__offline=True, training__district_id="32.75.02")
    ListingFactory(training__offline=True, training__district_id="31.71.01")  # DKI Jakarta
    ListingFactory()  # online
    assert result_ids(client.get(CATALOG, {"province": "32"})) == [bekasi.pk]


def test_invalid_filter_values_are_ignored(client):
    listing = ListingFactory()
    response = client.get(CATALOG, {"category": "nope", "price_min": "abc", "sort": "sideways", "page": "x"})
    assert result_ids(response) == [listing.pk]


def test_search_matches_title_and_description_by_word_prefix(client):
    canva = ListingFactory(
        training__title="Desain Grafis dengan Canva", training__description="Belajar desain."
    )
    excel = ListingFactory(
        training__title="Microsoft Excel", training__description="Rumus dan grafik untuk kantor."
    )
    ListingFactory(training__title="Budidaya Lele", training__description="Kolam bioflok.")
    assert result_ids(client.get(CATALOG, {"q": "desain graf"})) == [canva.pk]
    assert set(result_ids(client.get(CATALOG, {"q": "graf"}))) == {canva.pk, excel.pk}
    assert result_ids(client.get(CATALOG, {"q": "CANVA"})) == [canva.pk]
    assert result_ids(client.get(CATALOG, {"q": "kursus terbang"})) == []


def test_search_ranks_title_matches_first(client):
    in_description = ListingFactory(
        training__title="Administrasi Kantor", training__description="Termasuk Excel dasar."
    )
    in_title = ListingFactory(training__title="Excel untuk Kantor", training__description="Rumus.")
    assert result_ids(client.get(CATALOG, {"q": "excel"})) == [in_title.pk, in_description.pk]


def test_search_ignores_query_syntax(client):
    listing = ListingFactory(training__title="Bahasa Inggris")
    assert result_ids(client.get(CATALOG, {"q": "inggris & | ! ( ) :* '"})) == [listing.pk]


def test_a_search_that_cannot_be_used_says_so_instead_of_silently_showing_everything(client):
    one, two = ListingFactory(training__title="Menjahit Busana"), ListingFactory(training__title="Excel")
    note = re.compile(r"data-search-note>([^<]*)<")
    too_long = client.get(CATALOG, {"q": "menjahit " * 40})
    assert set(result_ids(too_long)) == {one.pk, two.pk}
    assert "terlalu panjang (paling banyak 100 karakter)" in note.search(too_long.content.decode()).group(1)
    symbols = client.get(CATALOG, {"q": "\U0001f600 \U0001f44d ?!"})
    assert set(result_ids(symbols)) == {one.pk, two.pk}
    assert "tidak berisi huruf atau angka" in note.search(symbols.content.decode()).group(1)
    searched = client.get(CATALOG, {"q": "menjahit"})
    assert result_ids(searched) == [one.pk]
    assert note.search(searched.content.decode()) is None
    assert note.search(client.get(CATALOG).content.decode()) is None


def test_sort_by_price_both_ways(client):
    mid = ListingFactory(price=250_000, training__price=250_000)
    low = ListingFactory(price=100_000, training__price=100_000)
    high = ListingFactory(price=900_000, training__price=900_000)
    assert result_ids(client.get(CATALOG, {"sort": "price_asc"})) == [low.pk, mid.pk, high.pk]
    assert result_ids(client.get(CATALOG, {"sort": "price_desc"})) == [high.pk, mid.pk, low.pk]


def test_sort_by_rating_puts_unrated_last(client):
    unrated = ListingFactory(training__rating_average=Decimal("0"), training__rating_count=0)
    good = ListingFactory(training__rating_average=Decimal("4.50"), training__rating_count=10)
    best = ListingFactory(training__rating_average=Decimal("4.90"), training__rating_count=3)
    more_votes = ListingFactory(training__rating_average=Decimal("4.50"), training__rating_count=200)
    assert result_ids(client.get(CATALOG, {"sort": "rating"})) == [
        best.pk,
        more_votes.pk,
        good.pk,
        unrated.pk,
    ]


def test_sort_newest_by_approval(client):
    now = timezone.now()
    old = ListingFactory(training__decided_at=now - datetime.timedelta(days=30))
    new = ListingFactory(training__decided_at=now - datetime.timedelta(days=1))
    assert result_ids(client.get(CATALOG, {"sort": "newest"})) == [new.pk, old.pk]


def test_sort_by_distance_from_the_browser_location(client):
    bekasi = ListingFactory(training__offline=True)  # -6.2383, 106.9756
    bandung = ListingFactory(
        training__offline=True,
        training__district_id="32.73.02",
        training__latitude=Decimal("-6.891500"),
        training__longitude=Decimal("107.610700"),
    )
    online = ListingFactory()
    # Standing in Bandung: Bandung first, then Bekasi (about 100 km), then online.
    response = client.get(CATALOG, {"sort": "distance", "lat": "-6.90", "lng": "107.61"})
    assert result_ids(response) == [bandung.pk, bekasi.pk, online.pk]
    html = response.content.decode()
    assert "0,9 km dari Anda" in html  # 0.95 km to the Bandung venue
    assert "101,7 km dari Anda" in html
    assert "Diurutkan berdasarkan jarak dari lokasi Anda saat ini" in html


def test_sort_by_closeness_to_the_applicants_domicile(client):
    applicant = ApplicantFactory(district_code="32.75.02")  # Bekasi Barat, Kota Bekasi, Jawa Barat
    elsewhere = ListingFactory(training__offline=True, training__district_id="31.71.01")  # Jakarta
    province = ListingFactory(training__offline=True, training__district_id="32.73.02")  # Bandung
    regency = ListingFactory(training__offline=True, training__district_id="32.75.01")  # Bekasi Timur
    district = ListingFactory(training__offline=True, training__district_id="32.75.02")
    online = ListingFactory()
    client.force_login(applicant.user)
    response = client.get(CATALOG, {"sort": "distance"})
    assert result_ids(response) == [district.pk, regency.pk, province.pk, elsewhere.pk, online.pk]
    html = response.content.decode()
    assert "di kecamatan Anda" in html
    assert "di kabupaten/kota Anda" in html
    assert "di provinsi Anda" in html


def test_distance_sort_without_location_explains_itself(client):
    online = ListingFactory()
    offline = ListingFactory(training__offline=True)
    response = client.get(CATALOG, {"sort": "distance"})
    assert result_ids(response) == [offline.pk, online.pk]
    assert "Untuk mengurutkan berdasarkan jarak" in response.content.decode()


def test_affiliation_is_disclosed_on_the_affiliated_platform_only(client):
    affiliated_platform = PlatformFactory(slug="skill-academy", name="Skill Academy")
    other_platform = PlatformFactory(slug="tokopedia", name="Tokopedia")
    training = TrainingFactory(title="Dasar Pemrograman Python")
    AffiliationFactory(provider=training.provider, platform=affiliated_platform)
    affiliated = ListingFactory(training=training, platform=affiliated_platform)
    plain = ListingFactory(training=training, platform=other_platform)
    html = client.get(CATALOG).content.decode()
    blocks = {
        int(m.group(1)): m.group(0) for m in re.finditer(r'data-listing-id="(\d+)".*?</li>', html, re.S)
    }
    assert "data-affiliated" in blocks[affiliated.pk]
    assert "terafiliasi dengan Skill Academy" in blocks[affiliated.pk]
    assert "data-affiliated" not in blocks[plain.pk]


def test_ties_are_broken_neutrally_and_change_by_day():
    """Equal prices on different platforms: no platform is always first."""
    platforms = [PlatformFactory(slug=f"p{i}", name=f"P{i}") for i in range(4)]
    training = TrainingFactory()
    listings = [ListingFactory(training=training, platform=p, price=300_000) for p in platforms]
    first_by_day = []
    day = datetime.date(2026, 1, 1)
    for offset in range(60):
        result = catalog_listings(
            query=CatalogQuery(sort="price_asc"), today=day + datetime.timedelta(days=offset)
        )
        order = [row.pk for row in result.listings]
        assert sorted(order) == sorted(row.pk for row in listings)
        # The same day always gives the same order (pagination stays stable).
        again = catalog_listings(
            query=CatalogQuery(sort="price_asc"), today=day + datetime.timedelta(days=offset)
        )
        assert [row.pk for row in again.listings] == order
        first_by_day.append(order[0])
    assert set(first_by_day) == {row.pk for row in listings}


def test_pagination_keeps_the_filters(client, settings):
    settings.MARKETPLACE_CATALOG_PAGE_SIZE = 2
    listings = [
        ListingFactory(
            training__category=TrainingCategory.FOOD, price=100_000 * (i + 1), training__price=900_000
        )
        for i in range(3)
    ]
    ListingFactory(training__category=TrainingCategory.IT)
    first = client.get(CATALOG, {"category": "food", "sort": "price_asc"})
    assert result_ids(first) == [listings[0].pk, listings[1].pk]
    html = first.content.decode()
    assert "Halaman 1 dari 2" in html
    assert 'href="?category=food&amp;sort=price_asc&amp;page=2"' in html
    second = client.get(CATALOG, {"category": "food", "sort": "price_asc", "page": 2})
    assert result_ids(second) == [listings[2].pk]


@pytest.mark.parametrize("signed_in", [False, True])
def test_catalog_query_count_is_constant(
    client, django_assert_num_queries, django_assert_max_num_queries, signed_in, settings
):
    settings.MARKETPLACE_CATALOG_CACHE_SECONDS = 0  # the rendering path (the cache: test_catalog_cache.py)
    if signed_in:
        client.force_login(ApplicantFactory().user)
    ListingFactory(training__offline=True)
    client.get(CATALOG, {"sort": "distance"})  # warm the province cache
    with django_assert_max_num_queries(50) as one:
        assert len(result_ids(client.get(CATALOG, {"sort": "distance"}))) == 1
    for _ in range(2):
        AffiliationFactory(provider=ListingFactory(training__offline=True).training.provider)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(result_ids(client.get(CATALOG, {"sort": "distance"}))) == 3
    # platforms, count, page ids, page rows; signed in adds session, user and applicant.
    assert len(one.captured_queries) == (7 if signed_in else 4)


def test_training_detail_lists_offers_cheapest_first_with_disclosure(client):
    training = TrainingFactory(title="Barista Profesional", price=500_000)
    expensive = ListingFactory(
        training=training, price=500_000, platform=PlatformFactory(slug="a", name="Alfa")
    )
    cheap = ListingFactory(training=training, price=450_000, platform=PlatformFactory(slug="b", name="Beta"))
    AffiliationFactory(provider=training.provider, platform=cheap.platform)
    ListingFactory(training=training, is_available=False, platform=PlatformFactory(slug="c", name="Gamma"))
    html = client.get(reverse("marketplace:training_detail", args=[training.pk])).content.decode()
    assert html.index('data-platform="b"') < html.index('data-platform="a"')
    assert 'data-platform="c"' not in html
    assert html.count("data-affiliated") == 1
    assert "Rp450.000" in html
    assert expensive.url in html


def test_training_detail_shows_upcoming_webinar_sessions(client):
    session = TrainingSessionFactory()
    TrainingSessionFactory(training=session.training, starts_at=timezone.now() - datetime.timedelta(days=1))
    html = client.get(reverse("marketplace:training_detail", args=[session.training.pk])).content.decode()
    assert "Sesi mendatang" in html
    assert html.count("WIB</li>") == 1


def test_training_detail_query_count_is_constant(
    client, django_assert_num_queries, django_assert_max_num_queries
):
    training = TrainingFactory()
    ListingFactory(training=training)
    with django_assert_max_num_queries(50) as one:
        client.get(reverse("marketplace:training_detail", args=[training.pk]))
    for slug in ("x", "y"):
        ListingFactory(training=training, platform=PlatformFactory(slug=slug))
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("marketplace:training_detail", args=[training.pk]))


def test_dashboard_links_to_the_catalog(client):
    client.force_login(ApplicantFactory().user)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="marketplace-catalog"' in html
    assert reverse("marketplace:catalog") in html


def test_a_participant_sees_one_button_to_the_catalog(client):
    """The training step's button; "My trainings" says where to look; no extra catalog panel."""
    from tests.marketplace.factories import participant_with_balance

    participant = participant_with_balance(balance=1_000_000)
    client.force_login(participant.applicant.user)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="marketplace-catalog"' not in html
    assert 'data-panel="marketplace-my-trainings"' in html
    catalog = re.escape(reverse("marketplace:catalog"))
    # At most the next step's button (here the next step is KYC): no panel adds its own.
    assert len(re.findall(rf'<a class="button[^"]*" href="{catalog}"', html)) <= 1
