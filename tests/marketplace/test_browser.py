"""Chromium at phone size: search the catalog, sort by price, sort by distance with the location."""

from decimal import Decimal

import pytest

from tests.marketplace.factories import AffiliationFactory, ListingFactory, PlatformFactory, TrainingFactory

pytestmark = pytest.mark.browser


def _prices(page) -> list[int]:
    return [
        int(value)
        for value in page.locator("#catalog-results li[data-price]").evaluate_all(
            "items => items.map(item => item.dataset.price)"
        )
    ]


def test_search_and_sort_by_price_on_a_phone(page, live_server):
    skill = PlatformFactory(slug="skill-academy", name="Skill Academy")
    tokopedia = PlatformFactory(slug="tokopedia", name="Tokopedia")
    for title, price in (
        ("Desain Grafis dengan Canva", 350_000),
        ("Desain Logo", 150_000),
        ("Desain Interior", 600_000),
    ):
        ListingFactory(training__title=title, training__price=price, price=price, platform=tokopedia)
    affiliated = TrainingFactory(title="Desain UI untuk Aplikasi", price=250_000)
    AffiliationFactory(provider=affiliated.provider, platform=skill)
    ListingFactory(training=affiliated, platform=skill, price=250_000)
    ListingFactory(training__title="Budidaya Lele", training__price=100_000, price=100_000)

    page.goto("/pelatihan/")
    assert page.locator("h1").inner_text() == "Katalog pelatihan"
    page.get_by_label("Cari pelatihan").fill("desain")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.wait_for_url("**/pelatihan/?q=desain*")
    assert page.locator("#catalog-count").inner_text().startswith("4 penawaran pelatihan ditemukan")

    # Choosing a sort submits the form by itself (catalog.js).
    page.get_by_label("Urutkan").select_option("price_asc")
    page.wait_for_url("**sort=price_asc*")
    assert _prices(page) == [150_000, 250_000, 350_000, 600_000]
    page.get_by_label("Urutkan").select_option("price_desc")
    page.wait_for_url("**sort=price_desc*")
    assert _prices(page) == [600_000, 350_000, 250_000, 150_000]

    disclosure = page.locator("[data-affiliated]")
    assert disclosure.count() == 1
    assert "terafiliasi dengan Skill Academy" in disclosure.inner_text()
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name="Desain UI untuk Aplikasi").click()
    assert page.locator("h1").inner_text() == "Desain UI untuk Aplikasi"
    assert page.locator("[data-affiliated]").count() == 1


def test_nearest_uses_the_browser_location_when_allowed(page, live_server):
    bekasi = ListingFactory(training__offline=True, training__title="Barista Bekasi")
    bandung = ListingFactory(
        training__offline=True,
        training__title="Barista Bandung",
        training__district_id="32.73.02",
        training__latitude=Decimal("-6.891500"),
        training__longitude=Decimal("107.610700"),
    )
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": -6.9, "longitude": 107.6})
    page.goto("/pelatihan/")
    page.get_by_label("Urutkan").select_option("distance")
    page.wait_for_url("**sort=distance*lat=*")
    ids = page.locator("#catalog-results li[data-listing-id]").evaluate_all(
        "items => items.map(item => Number(item.dataset.listingId))"
    )
    assert ids == [bandung.pk, bekasi.pk]
    assert "dari lokasi Anda saat ini" in page.locator("main").inner_text()


def test_shared_catalog_links_carry_only_the_fields_in_use(page, live_server):
    ListingFactory(training__title="Desain Logo", training__price=150_000, price=150_000)
    page.goto("/pelatihan/")
    page.get_by_label("Cari pelatihan").fill("desain")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.wait_for_url("**/pelatihan/?q=desain")
    page.get_by_label("Urutkan").select_option("price_asc")
    page.wait_for_url("**/pelatihan/?q=desain&sort=price_asc")
    # Back to the previous page: the emptied filters work again.
    page.go_back()
    page.wait_for_url("**/pelatihan/?q=desain")
    assert page.locator("select[name=category]").is_enabled()
    assert page.locator("input[name=price_max]").is_enabled()
