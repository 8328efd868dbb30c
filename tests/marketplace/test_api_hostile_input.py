"""Hostile input to the platform API: every request gets a documented 4xx JSON error, never a 500.

Run them on PostgreSQL too (CI does): it refuses NUL characters in text and
integers beyond its column types, which would be a 500 if one reached a query.
"""

import json
import time

import pytest
import yaml
from django.conf import settings

from marketplace.api import signing
from marketplace.api.errors import ERRORS
from marketplace.api.framework import MAX_BODY_BYTES
from tests.marketplace.factories import ListingFactory, participant_with_balance

pytestmark = pytest.mark.django_db

V1 = "/api/platform/v1"
PING = f"{V1}/ping"


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


def test_nul_in_a_json_string_is_a_validation_error(api, platform):
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(platform=platform)
    response = api.post(
        f"{V1}/purchases",
        {"card_number": participant.card_number + "\x00", "listing_id": listing.pk},
        idempotency_key="nul-body-0001",
    )
    _error(response, 422, "validation_failed")
    assert response.json()["error"]["details"] == {"card_number": ["must not contain control characters"]}


def test_nul_in_a_free_text_field_is_a_validation_error(api):
    response = api.post(
        f"{V1}/vouchers/ABCDEFGHJKMN/cancel", {"reason": "salah\x00beli"}, idempotency_key="nul-body-0002"
    )
    _error(response, 422, "validation_failed")
    assert response.json()["error"]["details"] == {"reason": ["must not contain control characters"]}


def test_nul_in_a_path_segment_is_not_found(api):
    response = api.get(f"{V1}/vouchers/ABC%00DEF", sign_path=f"{V1}/vouchers/ABC\x00DEF")
    _error(response, 404, "not_found")


def test_nul_in_a_query_value_is_a_validation_error(api):
    response = api.get(f"{V1}/listings?sku=PIN%00A")
    _error(response, 422, "validation_failed")
    assert response.json()["error"]["details"] == {"sku": ["must not contain control characters"]}


def test_an_over_long_sku_is_refused_like_the_spec_says(api, platform):
    ListingFactory(platform=platform, sku="A" * 64)
    assert api.get(f"{V1}/listings?sku={'A' * 64}").json()["results"][0]["sku"] == "A" * 64
    response = api.get(f"{V1}/listings?sku={'A' * 65}")
    _error(response, 422, "validation_failed")
    assert response.json()["error"]["details"] == {"sku": ["at most 64 characters"]}


@pytest.mark.parametrize(
    "timestamp",
    [
        "1" * 400,  # int() would accept it; far outside the window
        "9" * 5000,  # int() refuses more than 4300 digits
        "١٧٠٠٠٠٠٠٠٠",  # Arabic-Indic digits: str.isdigit() says yes
        "¹²³",  # superscripts: isdigit() yes, int() no
        "17000000 0",
    ],
)
def test_a_timestamp_that_is_not_ascii_digits_is_refused(api, timestamp):
    _error(api.get(PING, headers={signing.HEADER_TIMESTAMP: timestamp}), 401, "timestamp_invalid")


def test_a_now_timestamp_in_other_digits_is_refused(api):
    eastern = str(int(time.time())).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    _error(api.get(PING, timestamp=eastern), 401, "timestamp_invalid")


@pytest.mark.parametrize("key_id", ["pintaria\x00", "ключ", "k" * 500])
def test_a_malformed_key_id_is_unknown(api, key_id):
    api.key_id = key_id
    _error(api.get(PING), 401, "key_unknown")


@pytest.mark.parametrize("given", ["é" * 64, "zz" * 32, "ab"])
def test_a_malformed_signature_is_invalid(api, given):
    _error(api.get(PING, headers={signing.HEADER_SIGNATURE: given}), 401, "signature_invalid")


def test_a_100_000_deep_json_array_is_too_large(api, platform):
    listing = ListingFactory(platform=platform)
    body = b"[" * 100_000 + b"]" * 100_000
    response = api.request("PATCH", f"{V1}/listings/{listing.pk}", raw_body=body, idempotency_key="deep-0001")
    _error(response, 413, "payload_too_large")


def test_a_json_array_nested_too_deep_to_read_is_invalid_json(api, platform):
    listing = ListingFactory(platform=platform)
    body = b"[" * 30_000 + b"]" * 30_000  # within the size limit, beyond Python's recursion limit
    assert len(body) <= MAX_BODY_BYTES
    response = api.request("PATCH", f"{V1}/listings/{listing.pk}", raw_body=body, idempotency_key="deep-0002")
    _error(response, 400, "invalid_json")


def test_a_6_mb_body_is_too_large(api):
    body = json.dumps({"card_number": "1" * (6 * 1024 * 1024)}).encode()
    response = api.request(
        "POST", f"{V1}/purchases", raw_body=body, idempotency_key="big-body-0001", validate=False
    )
    _error(response, 413, "payload_too_large")


def test_a_body_just_over_the_api_limit_is_too_large(api):
    body = b'{"reason": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = api.request(
        "POST", f"{V1}/vouchers/ABCDEFGHJKMN/cancel", raw_body=body, idempotency_key="big-0002"
    )
    _error(response, 413, "payload_too_large")


def test_a_too_large_body_is_refused_before_the_signature_is_checked(client):
    response = client.generic("POST", f"{V1}/purchases", data=b"x" * (MAX_BODY_BYTES + 1))
    _error(response, 413, "payload_too_large")


@pytest.mark.parametrize("path", [f"{V1}/ping%0A", f"{V1}/foo%0Abar", f"{V1}/%0A", f"{V1}/vouchers/AB%0ACD"])
def test_a_newline_in_the_path_is_the_apis_json_404(api, path):
    response = api.get(path, validate=False)
    _error(response, 404, "not_found")


def test_a_control_character_in_the_path_is_404_even_unsigned(client):
    _error(client.get(f"{V1}/vouchers/AB%0DCD"), 404, "not_found")


@pytest.mark.parametrize("price", [80.0, 250000.0])
def test_a_whole_number_written_with_a_fraction_is_an_integer_as_the_spec_says(api, platform, price):
    listing = ListingFactory(platform=platform, price=300_000, training__price=300_000)
    response = api.patch(
        f"{V1}/listings/{listing.pk}", {"price": price}, idempotency_key=f"float-{int(price)}"
    )
    assert response.status_code == 200
    assert response.json()["price"] == int(price)


@pytest.mark.parametrize("price", [80.5, 1e300, float("inf"), "80"])
def test_a_price_that_is_not_a_whole_number_is_refused(api, platform, price):
    listing = ListingFactory(platform=platform, price=300_000)
    body = json.dumps({"price": price}).encode()
    response = api.request("PATCH", f"{V1}/listings/{listing.pk}", raw_body=body, idempotency_key="float-bad")
    _error(response, 422, "validation_failed")


@pytest.mark.parametrize("listing_id", [2**31, 2**63, 10**30])
def test_an_id_beyond_any_database_integer_is_not_found_or_refused(api, listing_id):
    participant = participant_with_balance(balance=1_000_000)
    response = api.post(
        f"{V1}/purchases",
        {"card_number": participant.card_number, "listing_id": listing_id},
        idempotency_key="huge-id-0001",
    )
    assert response.status_code in (404, 422)
    response = api.get(f"{V1}/listings/{listing_id}")
    _error(response, 404, "listing_not_found")
    response = api.get(f"{V1}/purchases/{listing_id}")
    _error(response, 404, "purchase_not_found")
    response = api.get(f"{V1}/listings?after={listing_id}")
    assert response.status_code in (200, 422)


@pytest.mark.parametrize("after", ["9" * 5000, "%C2%B2", "%D9%A1", "1e3", "-1", "%201"])
def test_a_query_integer_that_is_not_ascii_digits_is_refused(api, after):
    response = api.get(f"{V1}/listings?after={after}")
    _error(response, 422, "validation_failed")
    assert response.json()["error"]["details"] == {"after": ["must be an integer >= 0"]}


def test_a_query_integer_written_with_a_zero_fraction_is_an_integer(api, platform):
    listings = [ListingFactory(platform=platform) for _ in range(2)]
    response = api.get(f"{V1}/listings?limit=1.0")
    assert [row["id"] for row in response.json()["results"]] == [listings[0].pk]


def test_the_spec_price_maximum_is_the_programme_maximum():
    from marketplace.api.views import OPENAPI_PATH

    spec = yaml.safe_load(OPENAPI_PATH.read_text())
    patch = spec["paths"]["/listings/{listing_id}"]["patch"]
    price = patch["requestBody"]["content"]["application/json"]["schema"]["properties"]["price"]
    assert price["maximum"] == settings.MARKETPLACE_PRICE_MAX


def test_the_new_error_codes_are_in_the_spec():
    from marketplace.api.views import OPENAPI_PATH

    spec = yaml.safe_load(OPENAPI_PATH.read_text())
    assert {"payload_too_large"} <= set(spec["components"]["schemas"]["ErrorCode"]["enum"])
    assert ERRORS["payload_too_large"][0] == 413


# --- The signature covers the decoded path -------------------------------------------


def test_a_percent_encoded_path_is_signed_decoded(api, platform):
    listing = ListingFactory(platform=platform)
    encoded = f"{V1}/listings/%{ord(str(listing.pk)[0]):X}{str(listing.pk)[1:]}"
    assert encoded != f"{V1}/listings/{listing.pk}"
    response = api.get(encoded, sign_path=f"{V1}/listings/{listing.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == listing.pk


def test_a_path_signed_as_percent_encoded_is_refused(api, platform):
    listing = ListingFactory(platform=platform)
    encoded = f"{V1}/listings/%{ord(str(listing.pk)[0]):X}{str(listing.pk)[1:]}"
    _error(api.get(encoded), 401, "signature_invalid")


def test_the_query_string_is_signed_as_sent(api, platform):
    ListingFactory(platform=platform, sku="PIN A")
    assert api.get(f"{V1}/listings?sku=PIN%20A").json()["results"][0]["sku"] == "PIN A"
    response = api.get(f"{V1}/listings?sku=PIN%20A", sign_path=f"{V1}/listings?sku=PIN A")
    _error(response, 401, "signature_invalid")


def test_a_voucher_code_with_a_dash_sent_encoded_is_found(api, platform):
    from tests.marketplace.test_api_buying import _bought

    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(platform=platform, price=400_000, training__price=450_000)
    code = _bought(api, participant, listing)["code"]
    grouped = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    response = api.get(f"{V1}/vouchers/{grouped.replace('-', '%2D')}", sign_path=f"{V1}/vouchers/{grouped}")
    assert response.status_code == 200
    assert response.json()["code"] == code
