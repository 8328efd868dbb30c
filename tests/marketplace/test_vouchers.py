"""Voucher rules: redeem (each distinct error, webinar window edges), cancel with a refund, completion."""

import datetime

import pytest
from django.utils import timezone

from cohorts.enums import ParticipantStatus
from cohorts.models import Participant
from disbursement.enums import MovementKind
from disbursement.models import LedgerAccount, LedgerMovement
from disbursement.selectors import ledger_check
from marketplace import services
from marketplace.codes import code_display
from marketplace.enums import CancelledBy, PurchaseChannel, PurchaseStatus, VoucherStatus
from marketplace.exceptions import VoucherRefused
from marketplace.models import Completion, Purchase, Voucher
from marketplace.selectors import incentive_qualifying_completion
from prakerja.models import AuditEntry, Notification
from tests.marketplace.factories import (
    ListingFactory,
    PlatformFactory,
    TrainingSessionFactory,
    participant_with_balance,
    sms_code,
)

pytestmark = pytest.mark.django_db


def buy(participant, listing, **kwargs) -> Voucher:
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API, **kwargs
    )
    return services.purchase_confirm(
        purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )


@pytest.fixture
def bought():
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=400_000)
    return buy(participant, listing)


def _balance(voucher) -> int:
    return LedgerAccount.objects.get(participant__pk=voucher.participant_id).balance


def _refusal(call) -> VoucherRefused:
    with pytest.raises(VoucherRefused) as refused:
        call()
    return refused.value


# --- Redeem -------------------------------------------------------------------------


def test_redeem_gives_a_redeem_code_once(bought):
    voucher = services.voucher_redeem(code=code_display(bought.code).lower(), platform_id=bought.platform_id)
    assert voucher.status == VoucherStatus.REDEEMED
    assert len(voucher.redeem_code) == 12
    assert voucher.redeemed_at is not None
    assert (
        AuditEntry.objects.filter(action="marketplace.voucher.redeemed", target_id=str(bought.pk)).count()
        == 1
    )
    again = _refusal(lambda: services.voucher_redeem(code=bought.code, platform_id=bought.platform_id))
    assert again.code == "voucher_already_redeemed"
    assert str(again.message) == "Voucher ini sudah ditukarkan."
    voucher.refresh_from_db()
    assert voucher.redeem_code == Voucher.objects.get(pk=bought.pk).redeem_code


def test_redeem_errors_are_distinct(bought):
    other_platform = PlatformFactory()
    cases = {
        "voucher_not_found": lambda: services.voucher_redeem(
            code="2222-2222-2222", platform_id=bought.platform_id
        ),
        "voucher_other_platform": lambda: services.voucher_redeem(
            code=bought.code, platform_id=other_platform.pk
        ),
        "voucher_other_provider": lambda: services.voucher_redeem(
            code=bought.code, platform_id=bought.platform_id, provider_id=bought.training.provider_id + 1000
        ),
    }
    codes = {name: _refusal(call).code for name, call in cases.items()}
    assert codes == {name: name for name in cases}
    # The right provider is accepted.
    services.voucher_redeem(
        code=bought.code, platform_id=bought.platform_id, provider_id=bought.training.provider_id
    )


def test_garbage_codes_are_not_found(bought):
    for code in ("", "ILO0-1111", "x" * 200, "'; DROP TABLE"):
        assert _refusal(
            lambda c=code: services.voucher_redeem(code=c, platform_id=bought.platform_id)
        ).code == ("voucher_not_found")


def test_a_cancelled_voucher_cannot_be_redeemed(bought):
    services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.PARTICIPANT)
    refusal = _refusal(lambda: services.voucher_redeem(code=bought.code, platform_id=bought.platform_id))
    assert refusal.code == "voucher_cancelled"
    assert str(refusal.message) == (
        "Voucher ini sudah dibatalkan dan saldonya dikembalikan; voucher tidak dapat dipakai."
    )


@pytest.fixture
def webinar_voucher():
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=3)
    session = TrainingSessionFactory(starts_at=start)
    listing = ListingFactory(training=session.training, price=300_000)
    voucher = buy(participant_with_balance(), listing, session_id=session.pk)
    assert voucher.session_id == session.pk
    return voucher


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (datetime.timedelta(hours=-1, seconds=-1), False),
        (datetime.timedelta(hours=-1), True),
        (datetime.timedelta(0), True),
        (datetime.timedelta(hours=1), True),
        (datetime.timedelta(hours=1, seconds=1), False),
    ],
)
def test_webinar_vouchers_redeem_only_within_an_hour_of_the_session_start(webinar_voucher, offset, allowed):
    now = webinar_voucher.session.starts_at + offset
    call = lambda: services.voucher_redeem(  # noqa: E731
        code=webinar_voucher.code, platform_id=webinar_voucher.platform_id, now=now
    )
    if allowed:
        assert call().status == VoucherStatus.REDEEMED
    else:
        refusal = _refusal(call)
        assert refusal.code == "redeem_outside_window"
        start = webinar_voucher.session.starts_at
        assert refusal.details == {
            "opens_at": (start - datetime.timedelta(hours=1)).isoformat(),
            "closes_at": (start + datetime.timedelta(hours=1)).isoformat(),
        }
        assert Voucher.objects.get(pk=webinar_voucher.pk).status == VoucherStatus.ISSUED


def test_self_paced_vouchers_redeem_any_time(bought):
    later = timezone.now() + datetime.timedelta(days=200)
    voucher = services.voucher_redeem(code=bought.code, platform_id=bought.platform_id, now=later)
    assert voucher.status == VoucherStatus.REDEEMED


# --- Cancel and refund --------------------------------------------------------------------


def test_cancelling_refunds_the_balance_exactly_once(bought):
    assert _balance(bought) == 600_000
    cancelled = services.voucher_cancel(
        voucher_id=bought.pk, by=CancelledBy.PARTICIPANT, reason="Salah pilih"
    )
    assert cancelled.status == VoucherStatus.CANCELLED
    assert (cancelled.cancelled_by, cancelled.cancel_reason) == ("participant", "Salah pilih")
    assert _balance(bought) == 1_000_000
    purchase = Purchase.objects.get(pk=bought.purchase_id)
    assert purchase.status == PurchaseStatus.REFUNDED
    refund = purchase.refund_movement
    assert (refund.kind, refund.amount, refund.reverses_id, refund.idempotency_key) == (
        MovementKind.REFUND,
        400_000,
        purchase.movement_id,
        f"marketplace.purchase:{purchase.pk}:refund",
    )
    again = _refusal(lambda: services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.PLATFORM))
    assert again.code == "voucher_cancelled"
    assert _balance(bought) == 1_000_000
    assert LedgerMovement.objects.filter(kind=MovementKind.REFUND).count() == 1
    assert LedgerAccount.objects.get(code=f"platform_payable:{bought.platform_id}").balance == 0
    assert ledger_check().ok
    assert AuditEntry.objects.filter(action="marketplace.voucher.cancelled").count() == 1
    assert (
        Notification.objects.filter(
            idempotency_key__startswith=f"marketplace.voucher:{bought.pk}:cancelled"
        ).count()
        == 2
    )


def test_cancelling_the_only_training_restarts_the_deadline_clock(bought, settings):
    """Buying and cancelling at once must not keep Rp1.000.000 off the clock for good."""
    settings.COHORTS_REBUY_GRACE_DAYS = 7
    settings.OTP_RESEND_SECONDS = 0
    participant = Participant.objects.get(pk=bought.participant_id)
    assert participant.first_purchase_at is not None
    wave_deadline = participant.purchase_deadline

    services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.PARTICIPANT)
    participant.refresh_from_db()
    assert participant.first_purchase_at is None
    # Well before the wave's deadline: the wave's deadline stands.
    assert participant.purchase_deadline == wave_deadline
    email = Notification.objects.get(idempotency_key=f"marketplace.voucher:{bought.pk}:cancelled:email")
    assert "Anda tidak punya pelatihan lagi" in email.body

    # Near the deadline: at least the grace days from the cancellation.
    Participant.objects.filter(pk=participant.pk).update(
        purchase_deadline=timezone.now() + datetime.timedelta(days=1)
    )
    again = buy(participant, ListingFactory(price=100_000))
    Participant.objects.filter(pk=participant.pk).update(
        purchase_deadline=timezone.now() + datetime.timedelta(days=1)
    )
    before = timezone.now()
    services.voucher_cancel(voucher_id=again.pk, by=CancelledBy.PLATFORM)
    participant.refresh_from_db()
    assert participant.first_purchase_at is None
    assert participant.purchase_deadline >= before + datetime.timedelta(days=7)
    assert (
        AuditEntry.objects.filter(action="marketplace.voucher.cancelled")
        .latest("id")
        .data["deadline_restarted"]
    )


def test_cancelling_one_of_two_trainings_keeps_the_clock_stopped(bought, settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = Participant.objects.get(pk=bought.participant_id)
    buy(participant, ListingFactory(price=100_000))
    first_purchase_at = Participant.objects.get(pk=participant.pk).first_purchase_at

    services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.PARTICIPANT)
    assert Participant.objects.get(pk=participant.pk).first_purchase_at == first_purchase_at


def test_a_redeemed_voucher_cannot_be_cancelled(bought):
    services.voucher_redeem(code=bought.code, platform_id=bought.platform_id)
    refusal = _refusal(lambda: services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.PARTICIPANT))
    assert refusal.code == "voucher_already_redeemed"
    assert str(refusal.message) == "Voucher yang sudah ditukarkan tidak dapat dibatalkan."
    assert _balance(bought) == 600_000


def test_a_platform_cannot_cancel_another_platforms_voucher(bought):
    other = PlatformFactory()
    refusal = _refusal(
        lambda: services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.PLATFORM, platform_id=other.pk)
    )
    assert refusal.code == "voucher_other_platform"
    assert _balance(bought) == 600_000


def test_no_refund_after_the_programme_ended(bought):
    Participant.objects.filter(pk=bought.participant_id).update(status=ParticipantStatus.ENDED)
    refusal = _refusal(lambda: services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.OFFICER))
    assert refusal.code == "card_not_usable"
    assert Voucher.objects.get(pk=bought.pk).status == VoucherStatus.ISSUED


def test_the_refunded_balance_buys_again(bought, settings):
    settings.OTP_RESEND_SECONDS = 0
    services.voucher_cancel(voucher_id=bought.pk, by=CancelledBy.PARTICIPANT)
    participant = Participant.objects.get(pk=bought.participant_id)
    again = buy(participant, ListingFactory(price=1_000_000, training__price=1_000_000))
    assert again.status == VoucherStatus.ISSUED
    assert _balance(again) == 0


# --- Completion ----------------------------------------------------------------------------


def test_completion_records_the_certificate_and_the_first_counts_for_the_incentive(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance(balance=1_000_000)
    first = buy(participant, ListingFactory(price=300_000))
    second = buy(participant, ListingFactory(price=300_000))
    for voucher in (second, first):
        services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)

    done = services.completion_record(
        code=second.code, platform_id=second.platform_id, certificate_number="CERT-001", score=88
    )
    later = services.completion_record(
        code=first.code, platform_id=first.platform_id, certificate_number="CERT-002", score=70
    )
    assert (done.counts_for_incentive, later.counts_for_incentive) == (True, False)
    assert Voucher.objects.get(pk=second.pk).status == VoucherStatus.COMPLETED
    assert incentive_qualifying_completion(participant) == done
    assert (done.certificate_number, done.score, done.participant_id) == ("CERT-001", 88, participant.pk)
    assert AuditEntry.objects.get(action="marketplace.voucher.completed", target_id=str(second.pk)).data == {
        "certificate_number": "CERT-001",
        "score": 88,
        "counts_for_incentive": True,
    }
    emails = Notification.objects.filter(idempotency_key=f"marketplace.voucher:{second.pk}:completed:email")
    assert emails.count() == 1


def test_completion_errors(bought, settings):
    settings.OTP_RESEND_SECONDS = 0
    complete = lambda voucher, number="C-1": services.completion_record(  # noqa: E731
        code=voucher.code, platform_id=voucher.platform_id, certificate_number=number, score=90
    )
    assert _refusal(lambda: complete(bought)).code == "voucher_not_redeemed"
    services.voucher_redeem(code=bought.code, platform_id=bought.platform_id)
    complete(bought)
    assert _refusal(lambda: complete(bought, "C-2")).code == "voucher_already_completed"
    participant = Participant.objects.get(pk=bought.participant_id)
    other = buy(participant, ListingFactory(platform=bought.platform, price=100_000))
    services.voucher_redeem(code=other.code, platform_id=other.platform_id)
    assert _refusal(lambda: complete(other, "C-1")).code == "certificate_number_taken"
    assert Completion.objects.count() == 1
    with pytest.raises(ValueError):
        services.completion_record(
            code=other.code, platform_id=other.platform_id, certificate_number="X", score=101
        )
    cancelled = buy(participant, ListingFactory(price=100_000))
    services.voucher_cancel(voucher_id=cancelled.pk, by=CancelledBy.PARTICIPANT)
    assert _refusal(lambda: complete(cancelled, "C-3")).code == "voucher_cancelled"


def test_voucher_codes_are_unique_and_drawn_from_the_readable_alphabet(settings):
    from marketplace.codes import ALPHABET, voucher_code_new

    settings.OTP_RESEND_SECONDS = 0
    settings.MARKETPLACE_PURCHASE_CODES_PER_HOUR = 100
    settings.OTP_USER_LIMIT_PER_HOUR = settings.OTP_PHONE_LIMIT_PER_HOUR = 100
    settings.OTP_USER_LIMIT_PER_DAY = settings.OTP_PHONE_LIMIT_PER_DAY = 100
    participant = participant_with_balance(balance=1_000_000)
    codes = {buy(participant, ListingFactory(price=10_000)).code for _ in range(12)}
    assert len(codes) == 12
    drawn = {voucher_code_new() for _ in range(5000)}
    assert len(drawn) == 5000
    assert all(len(code) == 12 and set(code) <= set(ALPHABET) for code in codes | drawn)
    assert set("".join(drawn)) == set(ALPHABET)  # every symbol is used, none outside it


def test_a_code_collision_draws_again(bought, monkeypatch, settings):
    settings.OTP_RESEND_SECONDS = 0
    from marketplace.services import purchases

    drawn = iter([bought.code, "ABCDEFGHJKMN"])
    monkeypatch.setattr(purchases, "voucher_code_new", lambda: next(drawn))
    participant = Participant.objects.get(pk=bought.participant_id)
    again = buy(participant, ListingFactory(price=10_000))
    assert again.code == "ABCDEFGHJKMN"
