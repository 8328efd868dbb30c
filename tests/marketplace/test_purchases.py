"""Buying with the training balance: start, SMS code, pay; every refusal; idempotency."""

import datetime

import pytest
from django.utils import timezone

from cohorts.enums import ParticipantStatus
from cohorts.models import Participant
from disbursement.enums import MovementKind
from disbursement.models import LedgerAccount, LedgerMovement
from disbursement.selectors import ledger_check
from marketplace import services
from marketplace.enums import PurchaseChannel, PurchaseStatus, TrainingMode, VoucherStatus
from marketplace.exceptions import PurchaseRefused
from marketplace.models import Listing, Purchase, Voucher
from marketplace.selectors import incentive_qualifying_completion
from prakerja.models import AuditEntry, Notification, OneTimeCode
from tests.marketplace.factories import (
    ListingFactory,
    TrainingSessionFactory,
    participant_with_balance,
    sms_code,
)

pytestmark = pytest.mark.django_db

PORTAL = PurchaseChannel.PORTAL


def _start(participant, listing, **kwargs):
    return services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=kwargs.pop("channel", PORTAL), **kwargs
    )


def _buy(participant, listing, **kwargs) -> Voucher:
    started = _start(participant, listing, **kwargs)
    code = sms_code(phone=participant.applicant.phone)
    return services.purchase_confirm(purchase_id=started.purchase.pk, code=code)


def _balance(participant) -> int:
    return LedgerAccount.objects.get(pk=participant.balance_account_id).balance


def test_buying_debits_the_balance_issues_a_voucher_and_stops_the_deadline_clock():
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=350_000, training__price=400_000)
    started = _start(participant, listing)

    purchase = started.purchase
    assert started.code_sent is True
    assert purchase.status == PurchaseStatus.AWAITING_CODE
    assert purchase.price == 350_000
    assert _balance(participant) == 1_000_000  # nothing is paid before the code
    code_row = OneTimeCode.objects.get(pk=purchase.otp_code_id)
    assert (code_row.purpose, code_row.phone) == ("purchase", participant.applicant.phone)
    sms = Notification.objects.get(channel="sms", recipient=participant.applicant.phone, sensitive=True)
    # The code says what it pays for, so a purchase the card holder did not start stands out.
    assert (
        f'untuk membeli "{listing.training.title}" seharga Rp350.000 di {listing.platform.name}' in sms.body
    )

    voucher = services.purchase_confirm(
        purchase_id=purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )

    purchase.refresh_from_db()
    participant.refresh_from_db()
    assert purchase.status == PurchaseStatus.PAID
    assert voucher.status == VoucherStatus.ISSUED
    assert (voucher.platform_id, voucher.training_id, voucher.participant_id) == (
        listing.platform_id,
        listing.training_id,
        participant.pk,
    )
    assert len(voucher.code) == 12
    assert _balance(participant) == 650_000
    assert participant.first_purchase_at == purchase.paid_at
    movement = purchase.movement
    assert (movement.kind, movement.amount, movement.idempotency_key) == (
        MovementKind.PURCHASE,
        350_000,
        f"marketplace.purchase:{purchase.pk}",
    )
    payable = LedgerAccount.objects.get(code=f"platform_payable:{listing.platform_id}")
    assert payable.balance == 350_000
    assert payable.name == f"Pembelian yang harus dibayar ke {listing.platform.name}"
    assert ledger_check().ok
    entry = AuditEntry.objects.get(action="marketplace.purchase.paid")
    assert entry.data["price"] == 350_000 and entry.actor == participant.applicant.user
    issued = Notification.objects.filter(
        idempotency_key__startswith=f"marketplace.voucher:{voucher.pk}:issued"
    )
    assert sorted(issued.values_list("channel", flat=True)) == ["email", "sms"]


def test_the_purchase_sms_shortens_a_long_title_and_speaks_the_participants_language():
    participant = participant_with_balance(balance=1_000_000)
    participant.applicant.user.language = "en"
    participant.applicant.user.save(update_fields=["language"])
    listing = ListingFactory(price=125_000, training__title="Strategi Pemasaran Digital – Kafé " * 3)
    _start(participant, listing)

    sms = Notification.objects.get(channel="sms", recipient=participant.applicant.phone, sensitive=True)
    assert f'to buy "Strategi Pemasaran Digital - Kafe Str..." for Rp125.000 on {listing.platform.name}' in (
        sms.body
    )
    # Plain ASCII, so the SMS stays in the GSM 7-bit alphabet (160 characters a part).
    assert sms.body.isascii()


def test_confirming_twice_returns_the_same_voucher_and_debits_once():
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=300_000)
    started = _start(participant, listing)
    code = sms_code(phone=participant.applicant.phone)
    first = services.purchase_confirm(purchase_id=started.purchase.pk, code=code)
    again = services.purchase_confirm(purchase_id=started.purchase.pk, code=code)
    assert again.pk == first.pk
    assert _balance(participant) == 700_000
    assert Voucher.objects.count() == 1
    assert LedgerMovement.objects.filter(kind=MovementKind.PURCHASE).count() == 1


def test_starting_the_same_purchase_again_reuses_it_without_another_sms():
    participant = participant_with_balance()
    listing = ListingFactory()
    first = _start(participant, listing)
    again = _start(participant, listing)
    assert again.code_sent is False
    assert again.purchase.pk == first.purchase.pk
    assert OneTimeCode.objects.filter(purpose="purchase").count() == 1


def test_a_new_purchase_replaces_the_one_awaiting_its_code(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance()
    first = _start(participant, ListingFactory())
    first_code = sms_code(phone=participant.applicant.phone)
    second = _start(participant, ListingFactory())

    first.purchase.refresh_from_db()
    assert (first.purchase.status, first.purchase.failure_code) == (PurchaseStatus.FAILED, "superseded")
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(purchase_id=first.purchase.pk, code=first_code)
    assert refused.value.code == "purchase_expired"
    assert second.purchase.status == PurchaseStatus.AWAITING_CODE


def test_a_code_sent_for_another_purchase_does_not_confirm_this_one(settings):
    """The latest code belongs to the newest purchase; an older one (left awaiting by a race) refuses it."""
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance()
    older = _start(participant, ListingFactory()).purchase
    newer = _start(participant, ListingFactory()).purchase
    Purchase.objects.filter(pk=older.pk).update(status=PurchaseStatus.AWAITING_CODE, failure_code="")
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(purchase_id=older.pk, code=sms_code(phone=participant.applicant.phone))
    assert refused.value.code == "code_expired"
    assert str(refused.value.message) == "Kode ini dikirim untuk pembelian lain. Minta kode baru."
    newer.refresh_from_db()
    assert newer.status == PurchaseStatus.AWAITING_CODE
    assert _balance(participant) == 1_000_000


def test_a_wrong_code_counts_an_attempt_and_leaves_the_purchase_waiting():
    participant = participant_with_balance()
    started = _start(participant, ListingFactory())
    right = sms_code(phone=participant.applicant.phone)
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(purchase_id=started.purchase.pk, code=wrong)
    assert refused.value.code == "code_wrong"
    assert refused.value.attempts_left == 4
    assert str(refused.value.message) == "Kode salah. Kesempatan Anda tinggal 4 kali lagi."
    assert OneTimeCode.objects.get(pk=started.purchase.otp_code_id).attempts == 1
    voucher = services.purchase_confirm(purchase_id=started.purchase.pk, code=right)
    assert voucher.status == VoucherStatus.ISSUED


def test_an_expired_code_is_refused(settings):
    participant = participant_with_balance()
    started = _start(participant, ListingFactory())
    OneTimeCode.objects.filter(pk=started.purchase.otp_code_id).update(expires_at=timezone.now())
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(
            purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
        )
    assert refused.value.code == "code_expired"
    assert _balance(participant) == 1_000_000


def test_insufficient_balance_is_refused_before_any_sms():
    participant = participant_with_balance(balance=200_000)
    with pytest.raises(PurchaseRefused) as refused:
        _start(participant, ListingFactory(price=300_000))
    assert refused.value.code == "insufficient_balance"
    assert str(refused.value.message) == "Saldo Anda Rp200.000 tidak cukup untuk pelatihan ini (Rp300.000)."
    assert not Purchase.objects.exists()
    assert not OneTimeCode.objects.exists()


def test_balance_spent_after_the_start_fails_the_purchase_with_the_ledger_message(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance(balance=500_000)
    listing = ListingFactory(price=400_000)
    started = _start(participant, listing)
    code = sms_code(phone=participant.applicant.phone)
    # Meanwhile the balance went down (another purchase, say).
    from disbursement.services import ledger_debit

    ledger_debit(account=participant.balance_account, amount=200_000, idempotency_key="test-elsewhere")
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(purchase_id=started.purchase.pk, code=code)
    assert refused.value.code == "insufficient_balance"
    assert str(refused.value.message) == "Saldo Rp300.000 tidak cukup untuk Rp400.000."
    purchase = Purchase.objects.get(pk=started.purchase.pk)
    assert (purchase.status, purchase.failure_code) == (PurchaseStatus.FAILED, "insufficient_balance")
    assert not Voucher.objects.exists()
    participant.refresh_from_db()
    assert participant.first_purchase_at is None
    # Asking again gives the same answer; nothing moves.
    with pytest.raises(PurchaseRefused) as again:
        services.purchase_confirm(purchase_id=purchase.pk, code=code)
    assert again.value.code == "insufficient_balance"
    assert _balance(participant) == 300_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": ParticipantStatus.REVOKED}, "Kartu Prakerja ini sudah tidak aktif."),
        ({"purchase_deadline_passed": True}, "Batas waktu membeli pelatihan pertama Anda sudah habis."),
    ],
)
def test_a_revoked_card_or_a_passed_deadline_is_refused(change, message):
    participant = participant_with_balance()
    if change.get("status"):
        Participant.objects.filter(pk=participant.pk).update(status=change["status"])
    else:
        Participant.objects.filter(pk=participant.pk).update(
            purchase_deadline=timezone.now() - datetime.timedelta(minutes=1)
        )
    with pytest.raises(PurchaseRefused) as refused:
        _start(participant, ListingFactory())
    assert refused.value.code == "card_not_usable"
    assert str(refused.value.message) == message
    assert not Purchase.objects.exists()


def test_the_deadline_passing_between_start_and_code_fails_the_purchase():
    participant = participant_with_balance()
    started = _start(participant, ListingFactory())
    Participant.objects.filter(pk=participant.pk).update(
        purchase_deadline=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(
            purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
        )
    assert refused.value.code == "card_not_usable"
    assert Purchase.objects.get(pk=started.purchase.pk).failure_code == "card_not_usable"
    assert _balance(participant) == 1_000_000


def test_a_listing_taken_off_sale_or_repriced_after_the_start_is_refused(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance()
    paused = ListingFactory(price=300_000)
    started = _start(participant, paused)
    Listing.objects.filter(pk=paused.pk).update(is_available=False)
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(
            purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
        )
    assert refused.value.code == "listing_unavailable"

    repriced = ListingFactory(price=300_000, training__price=400_000)
    started = _start(participant, repriced)
    services.listing_update(listing_id=repriced.pk, price=350_000)
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(
            purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
        )
    assert refused.value.code == "price_changed"
    assert str(refused.value.message) == (
        "Harga penawaran ini berubah dari Rp300.000 menjadi Rp350.000. Mulai lagi untuk membeli dengan harga baru."
    )
    assert _balance(participant) == 1_000_000


def test_a_listing_not_in_the_catalog_cannot_be_started():
    participant = participant_with_balance()
    with pytest.raises(PurchaseRefused) as refused:
        _start(participant, ListingFactory(is_available=False))
    assert refused.value.code == "listing_unavailable"


def test_another_platforms_listing_does_not_exist_for_a_platform():
    participant = participant_with_balance()
    listing = ListingFactory()
    other = ListingFactory()
    with pytest.raises(Listing.DoesNotExist):
        services.purchase_start(
            participant_id=participant.pk,
            listing_id=listing.pk,
            channel=PurchaseChannel.API,
            platform_id=other.platform_id,
        )


def test_a_webinar_purchase_takes_the_next_session_or_the_chosen_one(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance(balance=2_000_000)
    later = TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=14))
    training = later.training
    sooner = TrainingSessionFactory(training=training, starts_at=timezone.now() + datetime.timedelta(days=2))
    TrainingSessionFactory(training=training, starts_at=timezone.now() - datetime.timedelta(days=1))
    listing = ListingFactory(training=training)
    assert training.mode == TrainingMode.WEBINAR
    assert _start(participant, listing).purchase.session_id == sooner.pk
    chosen = services.purchase_start(
        participant_id=participant.pk,
        listing_id=listing.pk,
        channel=PurchaseChannel.API,
        session_id=later.pk,
    )
    assert chosen.purchase.session_id == later.pk


def test_a_past_or_foreign_session_is_refused():
    participant = participant_with_balance()
    past = TrainingSessionFactory(starts_at=timezone.now() - datetime.timedelta(hours=3))
    TrainingSessionFactory(training=past.training)
    listing = ListingFactory(training=past.training)
    for session_id in (past.pk, TrainingSessionFactory().pk):
        with pytest.raises(PurchaseRefused) as refused:
            _start(participant, listing, session_id=session_id)
        assert refused.value.code == "session_invalid"
    self_paced = ListingFactory()
    with pytest.raises(PurchaseRefused) as refused:
        _start(participant, self_paced, session_id=past.pk)
    assert refused.value.code == "session_invalid"


def test_codes_per_card_are_limited(settings):
    settings.OTP_RESEND_SECONDS = 0
    settings.OTP_USER_LIMIT_PER_HOUR = 50
    settings.OTP_PHONE_LIMIT_PER_HOUR = 50
    settings.OTP_USER_LIMIT_PER_DAY = 50
    settings.OTP_PHONE_LIMIT_PER_DAY = 50
    settings.MARKETPLACE_PURCHASE_CODES_PER_HOUR = 3
    participant = participant_with_balance()
    started = _start(participant, ListingFactory())
    services.purchase_code_resend(purchase_id=started.purchase.pk)
    services.purchase_code_resend(purchase_id=started.purchase.pk)
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_code_resend(purchase_id=started.purchase.pk)
    assert refused.value.code == "code_rate_limited"
    assert 3500 < refused.value.retry_after <= 3601
    assert str(refused.value.message) == (
        "Terlalu banyak kode pembelian diminta untuk kartu ini. Coba lagi dalam 60 menit."
    )
    assert OneTimeCode.objects.filter(purpose="purchase").count() == 3


def test_resending_too_soon_is_refused_with_the_wait():
    participant = participant_with_balance()
    started = _start(participant, ListingFactory())
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_code_resend(purchase_id=started.purchase.pk)
    assert refused.value.code == "code_rate_limited"
    assert 55 <= refused.value.retry_after <= 60


def test_a_resent_code_confirms_and_the_earlier_one_does_not(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance()
    started = _start(participant, ListingFactory())
    first = sms_code(phone=participant.applicant.phone)
    services.purchase_code_resend(purchase_id=started.purchase.pk)
    second = sms_code(phone=participant.applicant.phone)
    if first != second:
        with pytest.raises(PurchaseRefused):
            services.purchase_confirm(purchase_id=started.purchase.pk, code=first)
    voucher = services.purchase_confirm(purchase_id=started.purchase.pk, code=second)
    assert voucher.status == VoucherStatus.ISSUED


def test_stale_purchases_time_out_and_then_refuse_confirmation():
    participant = participant_with_balance()
    started = _start(participant, ListingFactory())
    assert services.purchases_expire_stale() == 0
    later = timezone.now() + datetime.timedelta(minutes=7)
    assert services.purchases_expire_stale(now=later) == 1
    assert services.purchases_expire_stale(now=later) == 0
    with pytest.raises(PurchaseRefused) as refused:
        services.purchase_confirm(purchase_id=started.purchase.pk, code="123456")
    assert refused.value.code == "purchase_expired"
    assert (
        str(refused.value.message)
        == "Waktu untuk mengonfirmasi pembelian ini sudah habis. Mulai pembelian lagi."
    )


def test_several_trainings_can_be_bought_while_the_balance_lasts(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance(balance=1_000_000)
    _buy(participant, ListingFactory(price=600_000))
    _buy(participant, ListingFactory(price=400_000))
    assert _balance(participant) == 0
    with pytest.raises(PurchaseRefused) as refused:
        _start(participant, ListingFactory(price=1))
    assert refused.value.code == "insufficient_balance"
    assert incentive_qualifying_completion(participant) is None


def test_purchase_task_is_registered():
    from marketplace.tasks import purchases_expire_stale_task

    assert purchases_expire_stale_task.name == "marketplace.purchases_expire_stale"
    from django.conf import settings as django_settings

    schedule = django_settings.CELERY_BEAT_SCHEDULE["marketplace-purchases-expire"]
    assert schedule["task"] == "marketplace.purchases_expire_stale"


def test_the_same_training_is_not_bought_twice_unless_the_voucher_was_cancelled(settings):
    settings.OTP_RESEND_SECONDS = 0
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=200_000)
    voucher = _buy(participant, listing)
    elsewhere = ListingFactory(
        training=listing.training, price=200_000
    )  # the same training, another platform
    for offer in (listing, elsewhere):
        with pytest.raises(PurchaseRefused) as refused:
            _start(participant, offer)
        assert refused.value.code == "already_bought"
        assert (
            str(refused.value.message)
            == "Anda sudah punya voucher untuk pelatihan ini. Lihat “Pelatihan Saya”."
        )
    from marketplace.enums import CancelledBy

    services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT)
    assert _buy(participant, elsewhere).status == VoucherStatus.ISSUED
