import json

import pytest

from marketplace.enums import ProviderStatus
from marketplace.models import ApiIdempotencyRecord, Listing
from prakerja.models import AuditEntry
from tests.marketplace.factories import AffiliationFactory, ListingFactory, PlatformFactory, TrainingFactory

pytestmark = pytest.mark.django_db

LISTINGS = "/api/platform/v1/listings"


def test_list_shows_only_the_callers_listings(api, platform):
    mine = ListingFactory(platform=platform, sku="PIN-1")
    ListingFactory(platform=PlatformFactory(slug="tokopedia"), sku="TOK-1")
    response = api.get(LISTINGS)
    assert response.status_code == 200
    assert [row["sku"] for row in response.json()["results"]] == ["PIN-1"]
    assert response.json()["results"][0]["id"] == mine.pk
    assert response.json()["next_after"] is None


def test_list_pages_by_id(api, platform):
    listings = [ListingFactory(platform=platform) for _ in range(3)]
    first = api.get(f"{LISTINGS}?limit=2").json()
    assert [row["id"] for row in first["results"]] == [listings[0].pk, listings[1].pk]
    assert first["next_after"] == listings[1].pk
    second = api.get(f"{LISTINGS}?limit=2&after={first['next_after']}").json()
    assert [row["id"] for row in second["results"]] == [listings[2].pk]
    assert second["next_after"] is None


def test_list_filters_by_sku(api, platform):
    ListingFactory(platform=platform, sku="PIN-A")
    ListingFactory(platform=platform, sku="PIN-B")
    assert [r["sku"] for r in api.get(f"{LISTINGS}?sku=PIN-B").json()["results"]] == ["PIN-B"]


def test_list_rejects_a_bad_limit(api):
    response = api.get(f"{LISTINGS}?limit=1000")
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "validation_failed",
        "message": response.json()["error"]["message"],
        "details": {"limit": ["must be an integer 1..100"]},
    }


def test_listing_detail_reports_catalog_state_and_affiliation(api, platform):
    listing = ListingFactory(platform=platform, price=250_000, training__price=300_000)
    AffiliationFactory(provider=listing.training.provider, platform=platform)
    body = api.get(f"{LISTINGS}/{listing.pk}").json()
    assert body["price"] == 250_000
    assert body["in_catalog"] is True
    assert body["affiliated"] is True
    assert body["training"]["price_ceiling"] == 300_000
    assert body["training"]["provider"]["status"] == "verified"


def test_listing_of_a_suspended_provider_is_not_in_the_catalog(api, platform):
    listing = ListingFactory(platform=platform, training__provider__status=ProviderStatus.SUSPENDED)
    assert api.get(f"{LISTINGS}/{listing.pk}").json()["in_catalog"] is False


def test_another_platforms_listing_is_not_found(api):
    other = ListingFactory(platform=PlatformFactory(slug="tokopedia"))
    response = api.get(f"{LISTINGS}/{other.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "listing_not_found"
    patch = api.patch(f"{LISTINGS}/{other.pk}", {"price": 1000}, idempotency_key="steal-0001")
    assert patch.status_code == 404
    other.refresh_from_db()
    assert other.price == 300_000


def test_update_price_and_availability(api, platform):
    listing = ListingFactory(platform=platform, price=300_000)
    response = api.patch(
        f"{LISTINGS}/{listing.pk}", {"price": 275_000, "available": False}, idempotency_key="upd-0001"
    )
    assert response.status_code == 200
    assert (response.json()["price"], response.json()["available"], response.json()["in_catalog"]) == (
        275_000,
        False,
        False,
    )
    listing.refresh_from_db()
    assert (listing.price, listing.is_available) == (275_000, False)
    entry = AuditEntry.objects.get(action="marketplace.listing.updated")
    assert entry.data == {
        "changes": {"price": [300_000, 275_000], "is_available": [True, False]},
        "by_platform": "pintaria",
    }
    assert entry.actor_repr == "system"


def test_price_above_the_approved_training_price_is_refused(api, platform):
    listing = ListingFactory(platform=platform, price=300_000, training__price=300_000)
    response = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 300_001}, idempotency_key="upd-0002")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "price_not_allowed"
    listing.refresh_from_db()
    assert listing.price == 300_000


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"price": "250000"}, {"price": ["must be an integer number of rupiah"]}),
        ({"price": 1.5}, {"price": ["must be an integer number of rupiah"]}),
        ({"available": "no"}, {"available": ["must be true or false"]}),
        ({"colour": "red"}, {"colour": ["unknown field"], "_": ["send price and/or available"]}),
    ],
)
def test_update_validates_fields(api, platform, body, details):
    listing = ListingFactory(platform=platform)
    response = api.patch(f"{LISTINGS}/{listing.pk}", body, idempotency_key="upd-0003")
    assert response.status_code == 422
    assert response.json()["error"]["details"] == details


def test_update_rejects_a_body_that_is_not_json(api, platform):
    listing = ListingFactory(platform=platform)
    response = api.request(
        "PATCH", f"{LISTINGS}/{listing.pk}", raw_body=b"price=1", idempotency_key="upd-0004"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_state_changing_call_needs_an_idempotency_key(api, platform):
    listing = ListingFactory(platform=platform)
    response = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 1000})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_missing"
    bad = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 1000}, idempotency_key="a b")
    assert bad.json()["error"]["code"] == "idempotency_key_invalid"


def test_idempotent_retry_returns_the_first_response(api, platform):
    listing = ListingFactory(platform=platform, price=300_000)
    first = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 280_000}, idempotency_key="retry-0001")
    # Meanwhile the price changes again under another key...
    api.patch(f"{LISTINGS}/{listing.pk}", {"price": 260_000}, idempotency_key="retry-0002")
    # ...and a retry of the first call (new nonce, new signature) replays the first answer.
    retry = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 280_000}, idempotency_key="retry-0001")
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert json.loads(retry.content) == json.loads(first.content)
    listing.refresh_from_db()
    assert listing.price == 260_000  # the retry changed nothing
    assert AuditEntry.objects.filter(action="marketplace.listing.updated").count() == 2


def test_idempotent_retry_replays_an_error_too(api, platform):
    listing = ListingFactory(platform=platform, price=300_000, training__price=300_000)
    first = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 999_999}, idempotency_key="retry-err-1")
    retry = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 999_999}, idempotency_key="retry-err-1")
    assert (first.status_code, retry.status_code) == (422, 422)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


def test_same_key_with_another_request_is_refused(api, platform):
    listing = ListingFactory(platform=platform)
    api.patch(f"{LISTINGS}/{listing.pk}", {"price": 280_000}, idempotency_key="reuse-0001")
    response = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 270_000}, idempotency_key="reuse-0001")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    listing.refresh_from_db()
    assert listing.price == 280_000


def test_idempotency_keys_are_per_platform(api, platform, client, openapi_spec):
    from tests.marketplace.conftest import SignedClient
    from tests.marketplace.factories import credential_for

    other = PlatformFactory(slug="tokopedia")
    key_id, secret = credential_for(other)
    other_api = SignedClient(client, key_id=key_id, secret=secret, spec=openapi_spec)
    mine = ListingFactory(platform=platform)
    theirs = ListingFactory(platform=other)
    assert (
        api.patch(f"{LISTINGS}/{mine.pk}", {"price": 111_000}, idempotency_key="shared-key-1").status_code
        == 200
    )
    response = other_api.patch(f"{LISTINGS}/{theirs.pk}", {"price": 222_000}, idempotency_key="shared-key-1")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert ApiIdempotencyRecord.objects.filter(key="shared-key-1").count() == 2


def test_a_failed_request_is_not_remembered(api, platform, monkeypatch):
    from marketplace import services

    listing = ListingFactory(platform=platform, price=300_000)

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "listing_update", broken)
    failed = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 250_000}, idempotency_key="flaky-0001")
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"
    assert not ApiIdempotencyRecord.objects.filter(key="flaky-0001").exists()
    monkeypatch.undo()
    retry = api.patch(f"{LISTINGS}/{listing.pk}", {"price": 250_000}, idempotency_key="flaky-0001")
    assert retry.status_code == 200
    assert Listing.objects.get(pk=listing.pk).price == 250_000


def test_listing_query_count_does_not_grow_with_rows(api, platform, django_assert_num_queries):
    ListingFactory(platform=platform)
    api.get(LISTINGS)  # marks the key as used (written at most once a minute)
    # key lookup, nonce insert (in a savepoint: 3), the page of listings
    with django_assert_num_queries(5):
        assert len(api.get(LISTINGS, validate=False).json()["results"]) == 1
    for _ in range(2):
        ListingFactory(platform=platform, training=TrainingFactory())
    with django_assert_num_queries(5):
        assert len(api.get(LISTINGS, validate=False).json()["results"]) == 3


def test_openapi_document_is_served(client):
    response = client.get("/api/platform/v1/openapi.yaml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert b"openapi: 3.1.0" in response.content


def test_error_codes_in_the_spec_match_the_code(openapi_spec):
    from marketplace.api.errors import ERRORS

    enum = openapi_spec.spec / "components" / "schemas" / "ErrorCode" / "enum"
    with enum.open() as values:
        assert sorted(values) == sorted(ERRORS)
