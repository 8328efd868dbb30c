"""PostgreSQL races in the buying half: one balance, one voucher, one refund, one incentive."""

import pytest
from django.test import Client

from disbursement.enums import MovementKind
from disbursement.models import LedgerAccount, LedgerMovement
from disbursement.selectors import ledger_check
from marketplace import services
from marketplace.enums import CancelledBy, PurchaseChannel, PurchaseStatus, VoucherStatus
from marketplace.exceptions import PurchaseRefused, VoucherRefused
from marketplace.models import Completion, Purchase, Voucher
from marketplace.services import purchases as purchase_services
from prakerja.otp import OtpVerified
from tests.marketplace.conftest import SignedClient
from tests.marketplace.factories import (
    ListingFactory,
    PlatformFactory,
    awaiting_purchase,
    credential_for,
    participant_with_balance,
    sms_code,
)
from tests.marketplace.test_postgres import _run_together

pytestmark = pytest.mark.postgres


def _balance(participant) -> int:
    return LedgerAccount.objects.get(pk=participant.balance_account_id).balance


def test_two_purchases_that_together_exceed_the_balance_only_one_succeeds(transactional_db, monkeypatch):
    """Both purchases pass every check that reads the balance; the locked debit lets only one through.

    The SMS step is stubbed: one person holds one valid purchase code at a time, so two
    confirmable purchases cannot exist in practice, but the money must not depend on that.
    """
    participant = participant_with_balance(balance=1_000_000)
    first = awaiting_purchase(participant=participant, listing=ListingFactory(price=600_000))
    second = awaiting_purchase(participant=participant, listing=ListingFactory(price=700_000))
    monkeypatch.setattr(
        purchase_services, "otp_verify", lambda **kwargs: OtpVerified(code_id=None, phone="+6281200000000")
    )

    results = _run_together(
        lambda: services.purchase_confirm(purchase_id=first.pk, code="123456"),
        lambda: services.purchase_confirm(purchase_id=second.pk, code="123456"),
    )

    vouchers = [r for r in results if isinstance(r, Voucher)]
    refusals = [r for r in results if isinstance(r, PurchaseRefused)]
    assert (len(vouchers), len(refusals)) == (1, 1), results
    assert refusals[0].code == "insufficient_balance"
    won = Purchase.objects.get(pk=vouchers[0].purchase_id)
    lost = Purchase.objects.exclude(pk=won.pk).get()
    assert (won.status, lost.status, lost.failure_code) == (
        PurchaseStatus.PAID,
        PurchaseStatus.FAILED,
        "insufficient_balance",
    )
    assert _balance(participant) == 1_000_000 - won.price
    assert LedgerMovement.objects.filter(kind=MovementKind.PURCHASE).count() == 1
    assert ledger_check().ok


def test_the_same_code_submitted_twice_at_once_pays_once(transactional_db):
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=400_000)
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.PORTAL
    )
    code = sms_code(phone=participant.applicant.phone)

    results = _run_together(
        lambda: services.purchase_confirm(purchase_id=started.purchase.pk, code=code),
        lambda: services.purchase_confirm(purchase_id=started.purchase.pk, code=code),
    )

    assert all(isinstance(r, Voucher) for r in results), results
    assert results[0].pk == results[1].pk
    assert _balance(participant) == 600_000
    assert Voucher.objects.count() == 1


def test_concurrent_api_retries_of_a_confirmation_return_one_voucher(transactional_db, openapi_spec):
    platform = PlatformFactory(slug="pintaria")
    key_id, secret = credential_for(platform)
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(platform=platform, price=300_000)
    api = SignedClient(Client(), key_id=key_id, secret=secret, spec=openapi_spec)
    started = api.post(
        "/api/platform/v1/purchases",
        {"card_number": participant.card_number, "listing_id": listing.pk},
        idempotency_key="race-start-1",
    ).json()
    code = sms_code(phone=participant.applicant.phone)

    def confirm():
        client = SignedClient(Client(), key_id=key_id, secret=secret, spec=openapi_spec)
        return client.post(
            f"/api/platform/v1/purchases/{started['id']}/confirm",
            {"code": code},
            idempotency_key="race-confirm",
        )

    first, second = _run_together(confirm, confirm)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["voucher"]["code"] == second.json()["voucher"]["code"]
    assert _balance(participant) == 700_000
    assert Voucher.objects.count() == 1


def test_the_participant_and_the_platform_cancelling_at_once_refund_once(transactional_db, settings):
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=250_000)
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API
    )
    voucher = services.purchase_confirm(
        purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )

    results = _run_together(
        lambda: services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT),
        lambda: services.voucher_cancel(
            voucher_id=voucher.pk, by=CancelledBy.PLATFORM, platform_id=listing.platform_id
        ),
    )

    done = [r for r in results if isinstance(r, Voucher)]
    refused = [r for r in results if isinstance(r, VoucherRefused)]
    assert (len(done), len(refused)) == (1, 1), results
    assert refused[0].code == "voucher_cancelled"
    assert _balance(participant) == 1_000_000
    assert LedgerMovement.objects.filter(kind=MovementKind.REFUND).count() == 1
    assert ledger_check().ok


def test_redeem_and_cancel_at_once_leave_one_outcome(transactional_db):
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=250_000)
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API
    )
    voucher = services.purchase_confirm(
        purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )

    results = _run_together(
        lambda: services.voucher_redeem(code=voucher.code, platform_id=listing.platform_id),
        lambda: services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT),
    )

    assert sum(isinstance(r, Voucher) for r in results) == 1, results
    assert sum(isinstance(r, VoucherRefused) for r in results) == 1
    final = Voucher.objects.get(pk=voucher.pk)
    if final.status == VoucherStatus.CANCELLED:
        assert (final.redeem_code, _balance(participant)) == ("", 1_000_000)
    else:
        assert final.status == VoucherStatus.REDEEMED
        assert _balance(participant) == 750_000
        assert not LedgerMovement.objects.filter(kind=MovementKind.REFUND).exists()


def test_two_completions_at_once_only_one_counts_for_the_incentive(transactional_db, settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance(balance=1_000_000)
    vouchers = []
    for _ in range(2):
        listing = ListingFactory(price=200_000)
        started = services.purchase_start(
            participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API
        )
        voucher = services.purchase_confirm(
            purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
        )
        services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
        vouchers.append(voucher)

    results = _run_together(
        *[
            (
                lambda v=v, n=n: services.completion_record(
                    code=v.code, platform_id=v.platform_id, certificate_number=f"RACE-{n}", score=80
                )
            )
            for n, v in enumerate(vouchers)
        ]
    )

    assert all(isinstance(r, Completion) for r in results), results
    assert Completion.objects.filter(participant=participant).count() == 2
    assert Completion.objects.filter(participant=participant, counts_for_incentive=True).count() == 1
