import time

import pytest

from marketplace.api import signing
from marketplace.models import ApiNonce
from tests.marketplace.factories import ListingFactory, PlatformFactory, credential_for

pytestmark = pytest.mark.django_db

PING = "/api/platform/v1/ping"


def test_signed_ping_names_the_platform(api, platform):
    response = api.get(PING)
    assert response.status_code == 200
    body = response.json()
    assert body["platform"] == {"slug": "pintaria", "name": "Pintaria"}
    assert body["key_id"] == api.key_id


def test_unsigned_request_is_refused(client, openapi_spec):
    from tests.marketplace.conftest import assert_matches_spec

    response = client.get(PING)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth_missing"
    assert response["WWW-Authenticate"].startswith("PRAKERJA-HMAC-SHA256")
    assert_matches_spec(openapi_spec, response)


def test_bad_signature_is_refused(api):
    response = api.get(PING, secret="sk_not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"


def test_signature_covers_the_query_string(api):
    response = api.get("/api/platform/v1/listings?limit=2", sign_path="/api/platform/v1/listings?limit=1")
    assert response.json()["error"]["code"] == "signature_invalid"


def test_signature_covers_the_body(api, platform):
    listing = ListingFactory(platform=platform, price=300_000)
    path = f"/api/platform/v1/listings/{listing.pk}"
    headers = signing.signed_headers(
        key_id=api.key_id, secret=api.secret, method="PATCH", path=path, body=b'{"price": 250000}'
    )
    response = api.client.generic(
        "PATCH",
        path,
        data=b'{"price": 1}',
        content_type="application/json",
        headers={**headers, "Idempotency-Key": "tamper-0001"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"
    listing.refresh_from_db()
    assert listing.price == 300_000


@pytest.mark.parametrize(
    "age", [310, -310, 3600]
)  # a few seconds of margin: the clock runs on while the request is made
def test_timestamp_outside_five_minutes_is_refused(api, age):
    response = api.get(PING, timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "timestamp_invalid"


def test_timestamp_within_the_window_is_accepted(api):
    assert api.get(PING, timestamp=int(time.time()) - 240).status_code == 200


def test_replayed_nonce_is_refused(api):
    nonce = "n" * 16 + "replay"
    timestamp = int(time.time())
    assert api.get(PING, nonce=nonce, timestamp=timestamp).status_code == 200
    replay = api.get(PING, nonce=nonce, timestamp=timestamp)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "nonce_reused"


def test_a_forged_request_does_not_burn_the_nonce(api):
    nonce = "forged-nonce-0001"
    assert api.get(PING, nonce=nonce, secret="sk_wrong").status_code == 401
    assert api.get(PING, nonce=nonce).status_code == 200
    assert ApiNonce.objects.filter(nonce=nonce).count() == 1


def test_malformed_nonce_is_refused(api):
    response = api.get(PING, nonce="short")
    assert response.json()["error"]["code"] == "nonce_invalid"


def test_unknown_key_is_refused(api):
    api.key_id = "nobody_0000000000000000"
    response = api.get(PING)
    assert response.json()["error"]["code"] == "key_unknown"


def test_rotation_keeps_the_old_key_for_the_grace_period_only(api, platform, client, openapi_spec):
    from tests.marketplace.conftest import SignedClient

    new_key, new_secret = credential_for(platform, grace_hours=1)
    assert api.get(PING).status_code == 200  # old key, still in its grace period
    fresh = SignedClient(client, key_id=new_key, secret=new_secret, spec=openapi_spec)
    assert fresh.get(PING).json()["key_id"] == new_key
    credential_for(platform, grace_hours=0)  # rotate again with no grace: both earlier keys end now
    assert api.get(PING).json()["error"]["code"] == "key_unknown"
    assert fresh.get(PING).json()["error"]["code"] == "key_unknown"


def test_inactive_platform_is_refused(api, platform):
    platform.active = False
    platform.save()
    response = api.get(PING)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "platform_inactive"


def test_errors_are_in_indonesian_unless_english_is_asked_for(api):
    indonesian = api.get(PING, secret="sk_wrong").json()["error"]["message"]
    english = api.get(PING, secret="sk_wrong", headers={"Accept-Language": "en"}).json()["error"]["message"]
    assert english == "The signature does not match the request. Check the secret and the string to sign."
    assert (
        indonesian
        == "Tanda tangan tidak cocok dengan permintaan. Periksa secret dan string yang ditandatangani."
    )


def test_unknown_endpoint_answers_json(api):
    response = api.get("/api/platform/v1/nothing-here", validate=False)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_answers_405(api):
    response = api.request("DELETE", PING, idempotency_key="delete-ping-1", validate=False)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/platform/v1/purchases", 422, "validation_failed"),
        ("/api/platform/v1/purchases/1/confirm", 422, "validation_failed"),
        ("/api/platform/v1/purchases/1/resend-code", 404, "purchase_not_found"),
        ("/api/platform/v1/vouchers/ABC123/redeem", 404, "voucher_not_found"),
        ("/api/platform/v1/vouchers/ABC123/complete", 422, "validation_failed"),
        ("/api/platform/v1/vouchers/ABC123/cancel", 404, "voucher_not_found"),
    ],
)
def test_the_formerly_reserved_endpoints_are_implemented(api, path, status, code):
    response = api.post(path, {}, idempotency_key="empty-body-0001")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_no_operation_in_the_spec_is_marked_unimplemented():
    from marketplace.api.views import OPENAPI_PATH

    text = OPENAPI_PATH.read_text()
    assert "x-implemented" not in text
    assert "NOT IMPLEMENTED" not in text


def test_one_platform_key_cannot_sign_for_another(api, client, openapi_spec):
    other = PlatformFactory(slug="sekolahmu", name="Sekolahmu")
    key_id, _secret = credential_for(other)
    api.key_id = key_id  # the other platform's key id with our secret
    assert api.get(PING).json()["error"]["code"] == "signature_invalid"
