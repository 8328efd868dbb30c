"""Buying a listing with the training balance, confirmed by an SMS code.

    started = purchase_start(participant_id=..., listing_id=..., channel=PurchaseChannel.PORTAL)
    voucher = purchase_confirm(purchase_id=started.purchase.pk, code="123456")

``purchase_start`` checks the card, the listing and the balance, records a
purchase *awaiting its code* and sends the participant a code (``prakerja.otp``,
purpose ``purchase``). A participant has at most one purchase awaiting a code:
starting another one replaces it, because a new code replaces the old one.
Starting the same purchase again while its code is still valid returns it
without sending another SMS (a double tap or a refreshed page).

``purchase_confirm`` accepts only the code sent for *this* purchase, then in one
transaction: locks the participant (``cohorts.services.participant_for_purchase``:
refuses a revoked card or a passed deadline), debits the balance through the
ledger into the platform's payable account (never overdraws), issues the
voucher and stops the deadline clock (``participant_record_purchase``), and queues the
``voucher.issued`` webhook for the platform (``marketplace.webhooks``).
Confirming a paid purchase again returns the same voucher; confirming a purchase
that failed raises the same refusal again.

Lock order, everywhere: purchase rows, one-time code rows, the participant row,
ledger accounts. Refusals raise ``PurchaseRefused`` with a stable ``code``.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cohorts.models import Participant
from cohorts.services import CohortError, participant_for_purchase, participant_record_purchase
from disbursement.models import LedgerAccount
from disbursement.services import InsufficientFunds, ledger_debit, ledger_programme_account_open
from marketplace.codes import voucher_code_new
from marketplace.enums import PurchaseChannel, PurchaseStatus, TrainingMode, VoucherStatus, WebhookEvent
from marketplace.exceptions import PurchaseRefused
from marketplace.models import Listing, Platform, Purchase, TrainingSession, Voucher
from marketplace.selectors import listings_visible
from marketplace.webhooks import webhook_queue
from prakerja.audit import audit_log
from prakerja.models import OneTimeCode
from prakerja.money import format_rupiah
from prakerja.notifications import notify_user
from prakerja.otp import OtpError, OtpSent, otp_active, otp_send, otp_verify
from registration.phones import phone_masked

logger = logging.getLogger(__name__)

OTP_PURPOSE = "purchase"
VOUCHER_CODE_TRIES = 5

# Why a purchase failed (Purchase.failure_code) -> the refusal's API code.
FAILURE_API_CODES = {
    "card_not_usable": "card_not_usable",
    "listing_unavailable": "listing_unavailable",
    "session_invalid": "session_invalid",
    "insufficient_balance": "insufficient_balance",
    "price_changed": "price_changed",
    "superseded": "purchase_expired",
    "timed_out": "purchase_expired",
}
FAILURE_MESSAGES = {
    "card_not_usable": gettext_lazy(
        "This Prakerja card cannot be used to buy a training: it is not active, or the time to buy "
        "the first training has run out."
    ),
    "listing_unavailable": gettext_lazy(
        "This training is no longer sold on this platform. Choose another offer in the catalog."
    ),
    "session_invalid": gettext_lazy("The chosen webinar session is no longer available. Choose another one."),
    "insufficient_balance": gettext_lazy("Your training balance is not enough for this training."),
    "price_changed": gettext_lazy(
        "The price of this offer changed after you started. Start again to see the new price."
    ),
    "superseded": gettext_lazy(
        "You started another purchase, so this one can no longer be confirmed. "
        "Continue with the newer purchase or start again."
    ),
    "timed_out": gettext_lazy("The time to confirm this purchase ran out. Start the purchase again."),
}
OTP_API_CODES = {
    "wrong_code": "code_wrong",
    "expired": "code_expired",
    "no_code": "code_expired",
    "too_many_attempts": "code_attempts_exceeded",
    "resend_too_soon": "code_rate_limited",
    "phone_limit": "code_rate_limited",
    "account_limit": "code_rate_limited",
}


@dataclass(frozen=True)
class PurchaseStarted:
    purchase: Purchase
    code_sent: bool  # False: an earlier start of the same purchase was returned, its code still works
    code_expires_at: datetime.datetime
    resend_at: datetime.datetime


def platform_payable_account(platform: Platform) -> LedgerAccount:
    """The programme account holding what the programme owes ``platform`` for its sales.

    One per platform (``platform_payable:<platform id>``; the id, not the slug, so a
    renamed platform keeps its account), named after the platform.
    """
    return ledger_programme_account_open(
        code=f"platform_payable:{platform.pk}",
        name=str(_("Purchases payable to %(platform)s") % {"platform": platform.name})[:200],
        allow_negative=False,
    )


def _failure(code: str, message=None) -> PurchaseRefused:
    return PurchaseRefused(message or FAILURE_MESSAGES[code], code=FAILURE_API_CODES[code])


def _refused_from_otp(exc: OtpError) -> PurchaseRefused:
    return PurchaseRefused(
        exc.message,
        code=OTP_API_CODES.get(exc.code, "code_wrong"),
        retry_after=exc.retry_after,
        attempts_left=exc.attempts_left,
    )


def _visible_listing(*, listing_id: int, platform_id: int | None) -> Listing:
    """The listing, if it is for sale now. Another platform's listing does not exist (DoesNotExist)."""
    listings = Listing.objects.select_related("training", "platform")
    if platform_id is not None:
        listings = listings.filter(platform_id=platform_id)
    listing = listings.get(pk=listing_id)
    if not listings_visible().filter(pk=listing.pk).exists():
        raise _failure("listing_unavailable")
    return listing


def _session_for(
    *, listing: Listing, session_id: int | None, now: datetime.datetime
) -> TrainingSession | None:
    """The webinar session bought: the one asked for, or the next one. Other modes have none."""
    if listing.training.mode != TrainingMode.WEBINAR:
        if session_id is not None:
            raise PurchaseRefused(_("Only webinars have sessions to choose."), code="session_invalid")
        return None
    upcoming = TrainingSession.objects.filter(training_id=listing.training_id, starts_at__gt=now).order_by(
        "starts_at"
    )
    session = upcoming.filter(pk=session_id).first() if session_id is not None else upcoming.first()
    if session is None:
        message = (
            FAILURE_MESSAGES["session_invalid"]
            if session_id is not None
            else _("This webinar has no upcoming session at the moment.")
        )
        raise PurchaseRefused(message, code="session_invalid")
    return session


def _codes_limit(*, user, now: datetime.datetime) -> None:
    """At most MARKETPLACE_PURCHASE_CODES_PER_HOUR purchase codes per card (counted from the code rows)."""
    limit = settings.MARKETPLACE_PURCHASE_CODES_PER_HOUR
    window = datetime.timedelta(hours=1)
    recent = list(
        OneTimeCode.objects.filter(user=user, purpose=OTP_PURPOSE, created_at__gt=now - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        retry_after = int((recent[-1] + window - now).total_seconds()) + 1
        minutes = max(1, -(-retry_after // 60))
        raise PurchaseRefused(
            _("Too many purchase codes were requested for this card. Try again in %(minutes)d minutes.")
            % {"minutes": minutes},
            code="code_rate_limited",
            retry_after=retry_after,
        )


def _send_code(*, purchase: Purchase, user, phone: str) -> OtpSent:
    if Purchase.listing.is_cached(purchase):  # a new purchase holds the listing it was made from
        listing = purchase.listing
    else:
        listing = Listing.objects.select_related("training", "platform").get(pk=purchase.listing_id)
    try:
        sent = otp_send(
            user=user,
            phone=phone,
            purpose=OTP_PURPOSE,
            language=user.language or None,
            detail={
                "item": listing.training.title,
                "price": format_rupiah(purchase.price),
                "platform": listing.platform.name,
            },
        )
    except OtpError as exc:
        raise _refused_from_otp(exc) from None
    Purchase.objects.filter(pk=purchase.pk).update(otp_code_id=sent.code_id, code_sent_at=timezone.now())
    purchase.otp_code_id = sent.code_id
    return sent


def purchase_start(
    *,
    participant_id: int,
    listing_id: int,
    channel: str,
    platform_id: int | None = None,
    session_id: int | None = None,
) -> PurchaseStarted:
    """Start buying ``listing_id`` for the participant and send the SMS code.

    ``platform_id`` (API calls) limits the listings to that platform's own:
    another platform's listing raises ``Listing.DoesNotExist``. Raises
    ``PurchaseRefused`` for an unusable card, a listing not for sale, a webinar
    session that is not upcoming, a balance below the price, or too many codes.
    """
    now = timezone.now()
    listing = _visible_listing(listing_id=listing_id, platform_id=platform_id)
    session = _session_for(listing=listing, session_id=session_id, now=now)
    participant = Participant.objects.select_related("applicant__user").get(pk=participant_id)
    user = participant.applicant.user
    phone = participant.applicant.phone
    if (
        Voucher.objects.filter(participant=participant, training_id=listing.training_id)
        .exclude(status=VoucherStatus.CANCELLED)
        .exists()
    ):
        raise PurchaseRefused(
            _("You already have a voucher for this training. See “My trainings”."), code="already_bought"
        )

    active = otp_active(user=user, purpose=OTP_PURPOSE)
    if active is not None:
        again = Purchase.objects.filter(
            participant=participant,
            status=PurchaseStatus.AWAITING_CODE,
            listing=listing,
            session=session,
            channel=channel,
            otp_code_id=active.pk,
            price=listing.price,
        ).first()
        if again is not None:
            return PurchaseStarted(
                purchase=again,
                code_sent=False,
                code_expires_at=active.expires_at,
                resend_at=active.created_at + datetime.timedelta(seconds=settings.OTP_RESEND_SECONDS),
            )

    with transaction.atomic():
        # A new code replaces the old one, so an earlier purchase awaiting its code cannot be confirmed.
        Purchase.objects.filter(participant=participant, status=PurchaseStatus.AWAITING_CODE).update(
            status=PurchaseStatus.FAILED, failure_code="superseded", failed_at=now
        )
        # The card first: an unusable card gets the same answer whatever its balance.
        try:
            locked = participant_for_purchase(participant_id=participant.pk)
        except CohortError as exc:
            raise PurchaseRefused(str(exc), code="card_not_usable") from None
        if not phone:
            raise PurchaseRefused(FAILURE_MESSAGES["card_not_usable"], code="card_not_usable")
        balance = locked.balance_account.balance
        if balance < listing.price:
            raise PurchaseRefused(
                _("Your balance of %(balance)s is not enough for this training (%(price)s).")
                % {"balance": format_rupiah(balance), "price": format_rupiah(listing.price)},
                code="insufficient_balance",
            )
        _codes_limit(user=user, now=now)
        purchase = Purchase.objects.create(
            participant=participant,
            listing=listing,
            platform=listing.platform,
            session=session,
            price=listing.price,
            channel=channel,
            created_at=now,
        )
        sent = _send_code(purchase=purchase, user=user, phone=phone)
    return PurchaseStarted(
        purchase=purchase, code_sent=True, code_expires_at=sent.expires_at, resend_at=sent.resend_at
    )


def purchase_code_resend(*, purchase_id: int, platform_id: int | None = None) -> PurchaseStarted:
    """Send a new code for a purchase still awaiting one (the earlier code stops working)."""
    with transaction.atomic():
        purchase = _locked(purchase_id=purchase_id, platform_id=platform_id)
        if purchase.status != PurchaseStatus.AWAITING_CODE:
            raise _refusal_for(purchase)
        participant = Participant.objects.select_related("applicant__user").get(pk=purchase.participant_id)
        user = participant.applicant.user
        now = timezone.now()
        _codes_limit(user=user, now=now)
        sent = _send_code(purchase=purchase, user=user, phone=participant.applicant.phone)
    return PurchaseStarted(
        purchase=purchase, code_sent=True, code_expires_at=sent.expires_at, resend_at=sent.resend_at
    )


def _locked(*, purchase_id: int, platform_id: int | None) -> Purchase:
    purchases = Purchase.objects.select_for_update()
    if platform_id is not None:
        purchases = purchases.filter(platform_id=platform_id)
    return purchases.get(pk=purchase_id)


def _refusal_for(purchase: Purchase) -> PurchaseRefused:
    """Why ``purchase`` (not awaiting a code, not paid) cannot be confirmed: the same answer every time."""
    if purchase.status == PurchaseStatus.REFUNDED:
        return PurchaseRefused(
            _("This purchase was cancelled and the balance refunded."), code="purchase_expired"
        )
    code = purchase.failure_code if purchase.failure_code in FAILURE_API_CODES else "timed_out"
    return _failure(code)


def purchase_confirm(*, purchase_id: int, code: str, platform_id: int | None = None) -> Voucher:
    """Check the SMS code of ``purchase_id`` and pay for it; return its voucher.

    Idempotent: a paid purchase returns its voucher (whatever the code), a failed
    one raises its refusal again. Two confirmations at once wait for each other
    on the purchase row, so the second one sees the first one's voucher.
    """
    refusal: PurchaseRefused | None = None
    with transaction.atomic():
        purchase = _locked(purchase_id=purchase_id, platform_id=platform_id)
        if purchase.status == PurchaseStatus.PAID:
            return Voucher.objects.get(purchase=purchase)
        if purchase.status != PurchaseStatus.AWAITING_CODE:
            refusal = _refusal_for(purchase)
        else:
            applicant = (
                Participant.objects.select_related("applicant__user")
                .get(pk=purchase.participant_id)
                .applicant
            )
            user = applicant.user
            try:
                verified = otp_verify(user=user, purpose=OTP_PURPOSE, code=code)
            except OtpError as exc:
                # Commit the wrong attempt (the code's attempt counter), then refuse.
                refusal = _refused_from_otp(exc)
            else:
                if verified.code_id != purchase.otp_code_id:
                    # The latest code was sent for another purchase (a race with a newer start).
                    refusal = PurchaseRefused(
                        _("This code was sent for another purchase. Ask for a new code."), code="code_expired"
                    )
                else:
                    try:
                        with transaction.atomic():
                            # The number the code went to (and came back from), never a form field.
                            return _pay(purchase=purchase, user=user, phone=verified.phone)
                    except _PayRefused as exc:
                        refusal = exc
                        Purchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.AWAITING_CODE).update(
                            status=PurchaseStatus.FAILED,
                            failure_code=exc.failure_code,
                            failed_at=timezone.now(),
                        )
    raise refusal


class _PayRefused(PurchaseRefused):
    def __init__(self, failure_code: str, message=None):
        super().__init__(message or FAILURE_MESSAGES[failure_code], code=FAILURE_API_CODES[failure_code])
        self.failure_code = failure_code


def _pay(*, purchase: Purchase, user, phone: str) -> Voucher:
    """The one transaction of a purchase: lock the card, debit the balance, issue the voucher."""
    try:
        participant = participant_for_purchase(participant_id=purchase.participant_id)
    except CohortError as exc:
        raise _PayRefused("card_not_usable", str(exc)) from None
    listing = Listing.objects.select_related("training", "platform").get(pk=purchase.listing_id)
    if not listings_visible().filter(pk=listing.pk).exists():
        raise _PayRefused("listing_unavailable")
    if listing.price != purchase.price:
        raise _PayRefused(
            "price_changed",
            _("The price of this offer changed from %(old)s to %(new)s. Start again to buy at the new price.")
            % {"old": format_rupiah(purchase.price), "new": format_rupiah(listing.price)},
        )
    now = timezone.now()
    if purchase.session_id is not None:
        session = TrainingSession.objects.get(pk=purchase.session_id)
        closes = session.starts_at + datetime.timedelta(minutes=settings.MARKETPLACE_REDEEM_WINDOW_MINUTES)
        if closes < now:
            raise _PayRefused("session_invalid")
    try:
        movement = ledger_debit(
            account=participant.balance_account,
            amount=purchase.price,
            idempotency_key=purchase.reference,
            reference=purchase.reference,
            destination=platform_payable_account(listing.platform),
            actor=user if purchase.channel == PurchaseChannel.PORTAL else None,
            memo=f"{listing.platform.slug} {listing.sku}"[:500],
        )
    except InsufficientFunds as exc:
        raise _PayRefused("insufficient_balance", exc.message) from None
    voucher = _voucher_create(purchase=purchase, training_id=listing.training_id, now=now)
    participant_record_purchase(participant=participant, at=now)
    Purchase.objects.filter(pk=purchase.pk).update(status=PurchaseStatus.PAID, paid_at=now, movement=movement)
    purchase.status, purchase.paid_at, purchase.movement = PurchaseStatus.PAID, now, movement
    audit_log(
        actor=user if purchase.channel == PurchaseChannel.PORTAL else None,
        action="marketplace.purchase.paid",
        obj=purchase,
        data={
            "price": purchase.price,
            "platform": listing.platform.slug,
            "listing": listing.pk,
            "channel": purchase.channel,
            "voucher": voucher.pk,
            "movement": movement.pk,
            "confirmed_by_sms_to": phone_masked(phone) if phone else "",
        },
    )
    notify_user(
        user=user,
        template="marketplace_voucher_issued",
        context={
            "voucher": voucher,
            "training": listing.training,
            "platform": listing.platform,
            "price": purchase.price,
        },
        phone=phone,
        idempotency_key=f"marketplace.voucher:{voucher.pk}:issued",
    )
    webhook_queue(voucher_id=voucher.pk, event_type=WebhookEvent.VOUCHER_ISSUED)
    return voucher


def _voucher_create(*, purchase: Purchase, training_id: int, now: datetime.datetime) -> Voucher:
    """A voucher with a fresh random code; a (vanishingly rare) collision draws again."""
    for _attempt in range(VOUCHER_CODE_TRIES):
        try:
            with transaction.atomic():
                return Voucher.objects.create(
                    purchase=purchase,
                    participant_id=purchase.participant_id,
                    platform_id=purchase.platform_id,
                    training_id=training_id,
                    session_id=purchase.session_id,
                    code=voucher_code_new(),
                    issued_at=now,
                )
        except IntegrityError:
            if Voucher.objects.filter(purchase=purchase).exists():
                raise
            logger.warning("voucher code collision for purchase %s; drawing again", purchase.pk)
    raise RuntimeError("could not draw a unique voucher code")


def purchases_expire_stale(*, now: datetime.datetime | None = None) -> int:
    """Mark purchases whose code can no longer be entered as not completed (periodic). Set-based."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.OTP_TTL_SECONDS + 60)
    return Purchase.objects.filter(status=PurchaseStatus.AWAITING_CODE, code_sent_at__lt=cutoff).update(
        status=PurchaseStatus.FAILED, failure_code="timed_out", failed_at=now
    )
