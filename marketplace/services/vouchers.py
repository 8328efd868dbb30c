"""Vouchers after the purchase: redeem, cancel with a refund, completion with a certificate.

    voucher_redeem(code=..., platform_id=...)                       issued -> redeemed (+ redeem code)
    voucher_cancel(voucher_id=..., by=CancelledBy.PARTICIPANT)       issued -> cancelled (+ refund)
    completion_record(code=..., platform_id=..., certificate_number=..., score=...)
                                                                    redeemed -> completed (+ certificate)

Each move locks the voucher row and checks its status, so a voucher is
redeemed, cancelled or completed once, also when two requests race. Refusals
raise ``VoucherRefused`` with a stable ``code`` (the API's error code).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorts.models import Participant
from cohorts.services import CohortError, participant_for_purchase, participant_record_cancellation
from disbursement.enums import MovementKind
from disbursement.services import ledger_reverse
from marketplace.codes import code_normalize, redeem_code_new
from marketplace.enums import PurchaseStatus, VoucherStatus, WebhookEvent
from marketplace.exceptions import VoucherRefused
from marketplace.models import Completion, Purchase, Voucher
from marketplace.services.settlements import voucher_settlement_record
from marketplace.webhooks import webhook_queue
from prakerja.audit import audit_log
from prakerja.money import format_rupiah
from prakerja.notifications import notify_user

CERTIFICATE_MAX_LENGTH = 64


@dataclass(frozen=True)
class RedeemWindow:
    opens_at: datetime.datetime
    closes_at: datetime.datetime


def redeem_window(voucher: Voucher) -> RedeemWindow | None:
    """When a webinar voucher may be redeemed: from an hour before to an hour after the session start."""
    if voucher.session_id is None:
        return None
    margin = datetime.timedelta(minutes=settings.MARKETPLACE_REDEEM_WINDOW_MINUTES)
    starts_at = voucher.session.starts_at
    return RedeemWindow(opens_at=starts_at - margin, closes_at=starts_at + margin)


def _find(*, code: str, platform_id: int | None) -> Voucher:
    """The voucher with ``code`` for ``platform_id`` (None: any platform), not locked."""
    normalized = code_normalize(code)
    voucher = (
        Voucher.objects.select_related("training", "session", "platform").filter(code=normalized).first()
        if normalized
        else None
    )
    if voucher is None:
        raise VoucherRefused(
            _("No voucher has this code. Check the code and try again."), code="voucher_not_found"
        )
    if platform_id is not None and voucher.platform_id != platform_id:
        raise VoucherRefused(
            _("This voucher was bought on another platform and can only be used there."),
            code="voucher_other_platform",
        )
    return voucher


def voucher_find(*, code: str, platform_id: int | None = None) -> Voucher:
    """Look a voucher up by code for a platform (raises ``VoucherRefused``: not found, other platform)."""
    return _find(code=code, platform_id=platform_id)


def _lock(voucher_id: int) -> Voucher:
    return Voucher.objects.select_for_update(of=("self",)).select_related("session").get(pk=voucher_id)


def _status_refusal(voucher: Voucher, *, allowed: tuple[str, ...]) -> VoucherRefused | None:
    if voucher.status in allowed:
        return None
    if voucher.status == VoucherStatus.CANCELLED:
        return VoucherRefused(
            _("This voucher was cancelled and the balance refunded; it cannot be used."),
            code="voucher_cancelled",
        )
    if voucher.status == VoucherStatus.ISSUED:
        return VoucherRefused(
            _("This voucher has not been redeemed yet: redeem it before reporting completion."),
            code="voucher_not_redeemed",
        )
    if voucher.status == VoucherStatus.COMPLETED and VoucherStatus.REDEEMED in allowed:
        return VoucherRefused(
            _("Completion of this training has already been reported."), code="voucher_already_completed"
        )
    return VoucherRefused(_("This voucher has already been redeemed."), code="voucher_already_redeemed")


def voucher_redeem(
    *, code: str, platform_id: int, provider_id: int | None = None, now: datetime.datetime | None = None
) -> Voucher:
    """Redeem a voucher for its platform and return it with its new redeem code.

    ``provider_id``, when the request names one, must be the training's provider.
    Webinar vouchers redeem only within ``redeem_window``.
    """
    voucher = _find(code=code, platform_id=platform_id)
    if provider_id is not None and voucher.training.provider_id != provider_id:
        raise VoucherRefused(
            _("This voucher is for a training of another provider."), code="voucher_other_provider"
        )
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(voucher.pk)
        refusal = _status_refusal(locked, allowed=(VoucherStatus.ISSUED,))
        if refusal:
            raise refusal
        window = redeem_window(locked)
        if window and not (window.opens_at <= now <= window.closes_at):
            raise VoucherRefused(
                _(
                    "A webinar voucher can be redeemed only from one hour before to one hour after the "
                    "session starts: between %(opens)s and %(closes)s."
                )
                % {
                    "opens": timezone.localtime(window.opens_at).strftime("%d-%m-%Y %H:%M"),
                    "closes": timezone.localtime(window.closes_at).strftime("%d-%m-%Y %H:%M"),
                },
                code="redeem_outside_window",
                details={"opens_at": window.opens_at.isoformat(), "closes_at": window.closes_at.isoformat()},
            )
        redeem_code = redeem_code_new()
        Voucher.objects.filter(pk=locked.pk, status=VoucherStatus.ISSUED).update(
            status=VoucherStatus.REDEEMED, redeem_code=redeem_code, redeemed_at=now
        )
        # The training started: the price in the platform's payable account is now the platform's.
        voucher_settlement_record(voucher_id=locked.pk)
        audit_log(
            actor=None,
            action="marketplace.voucher.redeemed",
            obj=locked,
            data={"platform": voucher.platform.slug, "provider": provider_id},
        )
    voucher.refresh_from_db()
    return voucher


def voucher_cancel(
    *,
    voucher_id: int,
    by: str,
    platform_id: int | None = None,
    actor=None,
    reason: str = "",
) -> Voucher:
    """Cancel an unredeemed voucher and refund its price to the balance, exactly once.

    ``by`` is a ``CancelledBy``; ``platform_id`` limits it to that platform's
    vouchers. The refund reverses the purchase's ledger movement (kind
    ``refund``). Refused for a redeemed, completed or cancelled voucher, and
    when the card is no longer active (the programme has ended). Queues the
    ``voucher.cancelled`` webhook for the platform, also when the platform cancelled.
    """
    reason = (reason or "").strip()[:300]
    with transaction.atomic():
        voucher = _lock(voucher_id)
        if platform_id is not None and voucher.platform_id != platform_id:
            raise VoucherRefused(
                _("This voucher was bought on another platform and can only be used there."),
                code="voucher_other_platform",
            )
        if voucher.status == VoucherStatus.CANCELLED:
            raise VoucherRefused(_("This voucher has already been cancelled."), code="voucher_cancelled")
        refusal = _status_refusal(voucher, allowed=(VoucherStatus.ISSUED,))
        if refusal:
            raise VoucherRefused(
                _("A voucher that has been redeemed cannot be cancelled."), code=refusal.code
            )
        try:
            participant = participant_for_purchase(participant_id=voucher.participant_id)
        except CohortError as exc:
            raise VoucherRefused(str(exc), code="card_not_usable") from None
        purchase = Purchase.objects.select_related("movement").get(pk=voucher.purchase_id)
        refund = ledger_reverse(
            movement=purchase.movement,
            idempotency_key=f"{purchase.reference}:refund",
            reference=purchase.reference,
            actor=actor,
            memo=reason,
            kind=MovementKind.REFUND,
        )
        now = timezone.now()
        Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.ISSUED).update(
            status=VoucherStatus.CANCELLED, cancelled_at=now, cancelled_by=by, cancel_reason=reason
        )
        Purchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.PAID).update(
            status=PurchaseStatus.REFUNDED, refunded_at=now, refund_movement=refund
        )
        trainings_left = (
            Voucher.objects.filter(participant_id=voucher.participant_id)
            .exclude(pk=voucher.pk)
            .exclude(status=VoucherStatus.CANCELLED)
            .exists()
        )
        new_deadline = participant_record_cancellation(
            participant=participant, trainings_left=trainings_left, at=now
        )
        audit_log(
            actor=actor,
            action="marketplace.voucher.cancelled",
            obj=voucher,
            data={
                "by": by,
                "reason": reason,
                "refund": refund.pk,
                "amount": refund.amount,
                "deadline_restarted": bool(new_deadline),
            },
        )
        user = participant.applicant.user
        notify_user(
            user=user,
            template="marketplace_voucher_cancelled",
            context={
                "voucher": voucher,
                "training": voucher.training,
                "amount": format_rupiah(refund.amount),
                "by": by,
                "deadline": new_deadline,
            },
            phone=participant.applicant.phone,
            idempotency_key=f"marketplace.voucher:{voucher.pk}:cancelled",
        )
        webhook_queue(voucher_id=voucher.pk, event_type=WebhookEvent.VOUCHER_CANCELLED)
    voucher.refresh_from_db()
    return voucher


def completion_record(
    *,
    code: str,
    platform_id: int,
    certificate_number: str,
    score: int,
    completed_at: datetime.datetime | None = None,
    actor=None,
) -> Completion:
    """Record that the training of a redeemed voucher was completed, with its certificate.

    The participant's first recorded completion counts for the incentive (one per
    participant, kept by a unique index, so two completions at once cannot both count).
    """
    certificate_number = (certificate_number or "").strip()
    if not certificate_number or len(certificate_number) > CERTIFICATE_MAX_LENGTH:
        raise ValueError("certificate_number must be 1-64 characters")
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValueError("score must be an integer from 0 to 100")
    voucher = _find(code=code, platform_id=platform_id)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(voucher.pk)
        refusal = _status_refusal(locked, allowed=(VoucherStatus.REDEEMED,))
        if refusal:
            raise refusal
        if Completion.objects.filter(
            platform_id=locked.platform_id, certificate_number=certificate_number
        ).exists():
            raise VoucherRefused(
                _("This certificate number was already reported for another voucher."),
                code="certificate_number_taken",
            )
        fields = {
            "voucher": locked,
            "participant_id": locked.participant_id,
            "platform_id": locked.platform_id,
            "certificate_number": certificate_number,
            "score": score,
            "completed_at": completed_at or now,
            "recorded_at": now,
            "reported_by": actor if getattr(actor, "pk", None) else None,
        }
        completion = _completion_create(fields)
        Voucher.objects.filter(pk=locked.pk, status=VoucherStatus.REDEEMED).update(
            status=VoucherStatus.COMPLETED, completed_at=fields["completed_at"]
        )
        audit_log(
            actor=actor,
            action="marketplace.voucher.completed",
            obj=locked,
            data={
                "certificate_number": certificate_number,
                "score": score,
                "counts_for_incentive": completion.counts_for_incentive,
            },
        )
        participant = Participant.objects.select_related("applicant__user").get(pk=locked.participant_id)
        notify_user(
            user=participant.applicant.user,
            template="marketplace_training_completed",
            context={"voucher": locked, "training": voucher.training, "completion": completion},
            idempotency_key=f"marketplace.voucher:{locked.pk}:completed",
        )
    return completion


def _completion_create(fields: dict) -> Completion:
    """Insert the completion; it counts for the incentive unless another completion already does."""
    for counts in (True, False):
        try:
            with transaction.atomic():
                return Completion.objects.create(counts_for_incentive=counts, **fields)
        except IntegrityError:
            taken = Completion.objects.filter(
                platform_id=fields["platform_id"], certificate_number=fields["certificate_number"]
            ).exists()
            if taken or not counts:
                raise VoucherRefused(
                    _("This certificate number was already reported for another voucher."),
                    code="certificate_number_taken",
                ) from None
    raise AssertionError("unreachable")
