"""The platform API's buying endpoints. Every response is validated against openapi.yaml (SignedClient)."""

import datetime
import time

import pytest
from django.utils import timezone

from cohorts.enums import ParticipantStatus
from cohorts.models import Participant
from disbursement.models import LedgerAccount
from marketplace.enums import PurchaseStatus, VoucherStatus
from marketplace.models import Purchase, Voucher
from prakerja.models import OneTimeCode
from tests.marketplace.conftest import SignedClient
from tests.marketplace.factories import (
    ListingFactory,
    PlatformFactory,
    TrainingSessionFactory,
    credential_for,
    participant_with_balance,
    sms_code,
)

pytestmark = pytest.mark.django_db

PURCHASES = "/api/platform/v1/purchases"


@pytest.fixture
def participant():
    return participant_with_balance(balance=1_000_000)


@pytest.fixture
def listing(platform):
    return ListingFactory(platform=platform, price=400_000, training__price=450_000)


def _start(api, participant, listing, key="start-0001", **extra):
    body = {"card_number": participant.card_number, "listing_id": listing.pk, **extra}
    return api.post(PURCHASES, body, idempotency_key=key)


def _confirm(api, purchase_id, code, key="confirm-0001"):
    return api.post(f"{PURCHASES}/{purchase_id}/confirm", {"code": code}, idempotency_key=key)


def _bought(api, participant, listing) -> dict:
    started = _start(api, participant, listing)
    assert started.status_code == 201
    paid = _confirm(api, started.json()["id"], sms_code(phone=participant.applicant.phone))
    assert paid.status_code == 200
    return paid.json()["voucher"]


def _balance(participant) -> int:
    return LedgerAccount.objects.get(pk=participant.balance_account_id).balance


def _other_platform_api(client, openapi_spec) -> SignedClient:
    other = PlatformFactory(slug="sekolahmu", name="Sekolahmu")
    key_id, secret = credential_for(other)
    return SignedClient(client, key_id=key_id, secret=secret, spec=openapi_spec)


# --- The flow -----------------------------------------------------------------------------


def test_purchase_confirm_redeem_complete(api, participant, listing):
    started = _start(api, participant, listing)
    assert started.status_code == 201
    body = started.json()
    assert body["status"] == "awaiting_code"
    assert (body["listing_id"], body["sku"], body["price"], body["voucher"]) == (
        listing.pk,
        listing.sku,
        400_000,
        None,
    )
    assert body["code_expires_at"] is not None and body["resend_after"] is not None
    assert _balance(participant) == 1_000_000

    paid = _confirm(api, body["id"], sms_code(phone=participant.applicant.phone))
    assert paid.status_code == 200
    purchase = paid.json()
    assert (purchase["status"], purchase["code_expires_at"]) == ("paid", None)
    voucher = purchase["voucher"]
    assert voucher["status"] == "issued"
    assert voucher["code"] == Voucher.objects.get().code
    assert voucher["training"]["provider"]["id"] == listing.training.provider_id
    assert _balance(participant) == 600_000

    assert api.get(f"{PURCHASES}/{body['id']}").json()["voucher"]["code"] == voucher["code"]
    assert api.get(f"/api/platform/v1/vouchers/{voucher['code']}").json()["status"] == "issued"

    redeemed = api.post(
        f"/api/platform/v1/vouchers/{voucher['code']}/redeem", {}, idempotency_key="redeem-0001"
    )
    assert redeemed.status_code == 200
    assert redeemed.json()["status"] == "redeemed"
    assert len(redeemed.json()["redeem_code"]) == 12

    completed = api.post(
        f"/api/platform/v1/vouchers/{voucher['code']}/complete",
        {"certificate_number": "PINTARIA-2026-000123", "score": 91},
        idempotency_key="complete-0001",
    )
    assert completed.status_code == 200
    assert completed.json()["status"] == "completed"
    assert completed.json()["completion"]["certificate_number"] == "PINTARIA-2026-000123"
    assert completed.json()["completion"]["score"] == 91


def test_idempotent_retries_return_the_same_purchase_and_voucher(api, participant, listing):
    first = _start(api, participant, listing, key="same-start")
    retry = _start(api, participant, listing, key="same-start")
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert OneTimeCode.objects.filter(purpose="purchase").count() == 1
    code = sms_code(phone=participant.applicant.phone)
    paid = _confirm(api, first.json()["id"], code, key="same-confirm")
    replay = _confirm(api, first.json()["id"], code, key="same-confirm")
    assert replay.json() == paid.json()
    assert replay["Idempotent-Replayed"] == "true"
    # A new key on a paid purchase answers with the same voucher too; nothing moves twice.
    fresh = _confirm(api, first.json()["id"], "999999", key="another-confirm")
    assert fresh.status_code == 200
    assert fresh.json()["voucher"]["code"] == paid.json()["voucher"]["code"]
    assert Voucher.objects.count() == 1
    assert _balance(participant) == 600_000


def test_starting_again_with_a_new_key_returns_the_waiting_purchase_without_an_sms(api, participant, listing):
    first = _start(api, participant, listing, key="start-a-")
    again = _start(api, participant, listing, key="start-b-")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert OneTimeCode.objects.filter(purpose="purchase").count() == 1


def test_a_wrong_code_is_counted_even_through_the_idempotent_transaction(api, participant, listing):
    started = _start(api, participant, listing).json()
    right = sms_code(phone=participant.applicant.phone)
    wrong = "000000" if right != "000000" else "111111"
    response = _confirm(api, started["id"], wrong, key="wrong-1-")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "code_wrong"
    assert response.json()["error"]["details"] == {"attempts_left": 4}
    assert OneTimeCode.objects.get(purpose="purchase").attempts == 1
    assert _confirm(api, started["id"], right, key="right-1-").status_code == 200


def test_card_numbers_unknown_revoked_or_expired_get_the_same_answer(api, participant, listing, settings):
    from cohorts.services import card_number_for

    unknown = card_number_for(wave_number=9, ordinal=424242)
    revoked = participant_with_balance(balance=0)  # revoked cards have their balance forfeited
    Participant.objects.filter(pk=revoked.pk).update(status=ParticipantStatus.REVOKED)
    late = participant_with_balance()
    Participant.objects.filter(pk=late.pk).update(
        purchase_deadline=timezone.now() - datetime.timedelta(hours=1)
    )
    bodies = []
    for number, card in enumerate((unknown, revoked.card_number, late.card_number)):
        response = api.post(
            PURCHASES, {"card_number": card, "listing_id": listing.pk}, idempotency_key=f"card-{number:04d}"
        )
        assert response.status_code == 422
        bodies.append(response.json())
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["error"]["code"] == "card_not_usable"
    assert bodies[0]["error"]["details"] == {}
    assert not Purchase.objects.exists()


def test_refused_card_numbers_are_rate_limited_per_platform(api, listing, settings):
    from cohorts.services import card_number_for

    settings.MARKETPLACE_API_CARD_FAILURES_PER_HOUR = 2
    for n in range(2):
        card = card_number_for(wave_number=9, ordinal=1000 + n)
        response = api.post(
            PURCHASES, {"card_number": card, "listing_id": listing.pk}, idempotency_key=f"probe-{n:04d}"
        )
        assert response.json()["error"]["code"] == "card_not_usable"
    card = card_number_for(wave_number=9, ordinal=2000)
    limited = api.post(
        PURCHASES, {"card_number": card, "listing_id": listing.pk}, idempotency_key="probe-9999"
    )
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) == limited.json()["error"]["details"]["retry_after"]


def test_a_malformed_card_number_is_a_validation_error(api, participant, listing):
    bad = participant.card_number[:-1] + str((int(participant.card_number[-1]) + 1) % 10)
    for number, card in enumerate((bad, "12345", 5200100012345678, None)):
        response = api.post(
            PURCHASES, {"card_number": card, "listing_id": listing.pk}, idempotency_key=f"bad-card-{number}"
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_failed"
        assert list(response.json()["error"]["details"]) == ["card_number"]


def test_spaces_in_the_card_number_are_fine(api, participant, listing):
    spaced = " ".join(participant.card_number[i : i + 4] for i in range(0, 16, 4))
    response = api.post(
        PURCHASES, {"card_number": spaced, "listing_id": listing.pk}, idempotency_key="spaced-0001"
    )
    assert response.status_code == 201


def test_insufficient_balance_says_so_without_the_amount(api, listing):
    poor = participant_with_balance(balance=100_000)
    response = _start(api, poor, listing)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "insufficient_balance"
    assert error["message"] == "Saldo pelatihan peserta tidak cukup untuk penawaran ini."
    assert "Rp" not in error["message"]


def test_another_platforms_listing_and_purchase_are_not_found(
    api, participant, listing, client, openapi_spec
):
    other_api = _other_platform_api(client, openapi_spec)
    response = _start(other_api, participant, listing)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "listing_not_found"
    started = _start(api, participant, listing).json()
    code = sms_code(phone=participant.applicant.phone)
    assert other_api.get(f"{PURCHASES}/{started['id']}").json()["error"]["code"] == "purchase_not_found"
    stolen = _confirm(other_api, started["id"], code)
    assert stolen.status_code == 404
    assert stolen.json()["error"]["code"] == "purchase_not_found"
    assert Purchase.objects.get().status == PurchaseStatus.AWAITING_CODE
    assert OneTimeCode.objects.get(purpose="purchase").used_at is None


def test_a_listing_off_sale_and_a_webinar_session(api, participant, platform):
    paused = ListingFactory(platform=platform, is_available=False)
    response = _start(api, participant, paused)
    assert response.json()["error"]["code"] == "listing_unavailable"
    session = TrainingSessionFactory()
    webinar = ListingFactory(platform=platform, training=session.training)
    bad = _start(api, participant, webinar, key="webinar-bad", session_id=session.pk + 100)
    assert bad.json()["error"]["code"] == "session_invalid"
    good = _start(api, participant, webinar, key="webinar-good")
    assert good.status_code == 201
    assert good.json()["session"]["id"] == session.pk
    assert (
        good.json()["session"]["redeem_opens_at"]
        == (session.starts_at - datetime.timedelta(hours=1)).isoformat()
    )


def test_resending_too_soon_is_429_with_the_wait(api, participant, listing):
    started = _start(api, participant, listing).json()
    response = api.post(f"{PURCHASES}/{started['id']}/resend-code", {}, idempotency_key="resend-0001")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "code_rate_limited"
    assert 55 <= response.json()["error"]["details"]["retry_after"] <= 60


def test_resending_sends_a_new_code(api, participant, listing, settings):
    settings.OTP_RESEND_SECONDS = 0
    started = _start(api, participant, listing).json()
    response = api.post(f"{PURCHASES}/{started['id']}/resend-code", None, idempotency_key="resend-0002")
    assert response.status_code == 200
    assert OneTimeCode.objects.filter(purpose="purchase").count() == 2
    assert Purchase.objects.get().otp_code_id == OneTimeCode.objects.order_by("-id").first().pk


def test_a_failed_purchase_answers_the_same_error_on_every_confirmation(api, listing):
    participant = participant_with_balance(balance=500_000)
    started = _start(api, participant, listing).json()
    code = sms_code(phone=participant.applicant.phone)
    from disbursement.services import ledger_debit

    ledger_debit(account=participant.balance_account, amount=200_000, idempotency_key="spent-elsewhere")
    first = _confirm(api, started["id"], code, key="failed-1")
    second = _confirm(api, started["id"], code, key="failed-2")
    assert first.json()["error"]["code"] == second.json()["error"]["code"] == "insufficient_balance"
    purchase = api.get(f"{PURCHASES}/{started['id']}").json()
    assert (purchase["status"], purchase["failure_code"]) == ("failed", "insufficient_balance")


# --- Vouchers --------------------------------------------------------------------------------


def test_voucher_errors_each_have_their_code(api, participant, listing, client, openapi_spec):
    voucher = _bought(api, participant, listing)
    code = voucher["code"]
    other_api = _other_platform_api(client, openapi_spec)
    v = "/api/platform/v1/vouchers"

    not_found = api.post(f"{v}/2222-3333-4444/redeem", {}, idempotency_key="r-404-00")
    other_platform = other_api.post(f"{v}/{code}/redeem", {}, idempotency_key="r-403a-0")
    other_provider = api.post(f"{v}/{code}/redeem", {"provider_id": 987654}, idempotency_key="r-403b-0")
    assert (not_found.status_code, not_found.json()["error"]["code"]) == (404, "voucher_not_found")
    assert (other_platform.status_code, other_platform.json()["error"]["code"]) == (
        403,
        "voucher_other_platform",
    )
    assert (other_provider.status_code, other_provider.json()["error"]["code"]) == (
        403,
        "voucher_other_provider",
    )
    assert other_api.get(f"{v}/{code}").json()["error"]["code"] == "voucher_other_platform"

    not_redeemed = api.post(
        f"{v}/{code}/complete", {"certificate_number": "C-1", "score": 80}, idempotency_key="c-409-00"
    )
    assert (not_redeemed.status_code, not_redeemed.json()["error"]["code"]) == (409, "voucher_not_redeemed")
    assert api.post(f"{v}/{code}/redeem", {}, idempotency_key="r-ok-000").status_code == 200
    used = api.post(f"{v}/{code}/redeem", {}, idempotency_key="r-409-00")
    assert (used.status_code, used.json()["error"]["code"]) == (409, "voucher_already_redeemed")
    not_cancellable = api.post(f"{v}/{code}/cancel", {}, idempotency_key="x-409-00")
    assert not_cancellable.json()["error"]["code"] == "voucher_already_redeemed"

    invalid = api.post(
        f"{v}/{code}/complete", {"certificate_number": "", "score": 101}, idempotency_key="c-422-00"
    )
    assert invalid.status_code == 422
    assert sorted(invalid.json()["error"]["details"]) == ["certificate_number", "score"]


def test_cancelling_through_the_api_refunds_once(api, participant, listing):
    voucher = _bought(api, participant, listing)
    path = f"/api/platform/v1/vouchers/{voucher['code']}/cancel"
    cancelled = api.post(path, {"reason": "Kelas ditiadakan"}, idempotency_key="cancel-0001")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert _balance(participant) == 1_000_000
    assert Voucher.objects.get().cancelled_by == "platform"
    again = api.post(path, {}, idempotency_key="cancel-0002")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "voucher_cancelled")
    redeem = api.post(f"/api/platform/v1/vouchers/{voucher['code']}/redeem", {}, idempotency_key="redeem-x")
    assert redeem.json()["error"]["code"] == "voucher_cancelled"
    assert _balance(participant) == 1_000_000
    assert api.get(f"{PURCHASES}/{voucher['purchase_id']}").json()["status"] == "refunded"


def test_redeeming_a_webinar_voucher_outside_its_window(api, participant, platform):
    session = TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=2))
    webinar = ListingFactory(platform=platform, training=session.training, price=200_000)
    voucher = _bought(api, participant, webinar)
    response = api.post(
        f"/api/platform/v1/vouchers/{voucher['code']}/redeem", {}, idempotency_key="early-0001"
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "redeem_outside_window"
    assert error["details"]["opens_at"] == (session.starts_at - datetime.timedelta(hours=1)).isoformat()
    assert Voucher.objects.get().status == VoucherStatus.ISSUED


# --- Security of the new endpoints ----------------------------------------------------------


def test_bad_signature_old_timestamp_and_replayed_nonce_change_nothing(api, participant, listing):
    body = {"card_number": participant.card_number, "listing_id": listing.pk}
    forged = api.post(PURCHASES, body, idempotency_key="forged-0001", secret="sk_wrong")
    assert forged.json()["error"]["code"] == "signature_invalid"
    stale = api.post(PURCHASES, body, idempotency_key="stale-0001", timestamp=int(time.time()) - 400)
    assert stale.json()["error"]["code"] == "timestamp_invalid"
    assert not Purchase.objects.exists()
    assert not OneTimeCode.objects.exists()

    timestamp = int(time.time())
    nonce = "purchase-nonce-000001"
    assert (
        api.post(PURCHASES, body, idempotency_key="nonce-0001", nonce=nonce, timestamp=timestamp).status_code
        == 201
    )
    replayed = api.post(PURCHASES, body, idempotency_key="nonce-0002", nonce=nonce, timestamp=timestamp)
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "nonce_reused"
    assert Purchase.objects.count() == 1


def test_a_key_reused_for_another_request_is_refused(api, participant, listing, platform):
    _start(api, participant, listing, key="reuse-0001")
    other = ListingFactory(platform=platform)
    response = _start(api, participant, other, key="reuse-0001")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_confirm_redeem_and_complete_need_an_idempotency_key(api, participant, listing):
    voucher = _bought(api, participant, listing)
    for path, body in (
        (PURCHASES, {"card_number": participant.card_number, "listing_id": listing.pk}),
        (f"/api/platform/v1/vouchers/{voucher['code']}/redeem", {}),
        (f"/api/platform/v1/vouchers/{voucher['code']}/complete", {"certificate_number": "A", "score": 1}),
        (f"/api/platform/v1/vouchers/{voucher['code']}/cancel", {}),
    ):
        response = api.post(path, body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "idempotency_key_missing"
    assert Voucher.objects.get().status == VoucherStatus.ISSUED


def test_errors_speak_english_when_asked(api, participant, listing):
    response = api.post(
        "/api/platform/v1/vouchers/2222-3333-4444/redeem",
        {},
        idempotency_key="english-0001",
        headers={"Accept-Language": "en"},
    )
    assert response.json()["error"]["message"] == "No voucher has this code."


def test_a_training_already_bought_is_409(api, participant, listing):
    _bought(api, participant, listing)
    response = _start(api, participant, listing, key="start-again-0001")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_bought"
