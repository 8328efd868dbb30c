"""Payouts: one transfer instruction to a payment partner, and the only ways its status changes.

Every move is a compare-and-swap (``UPDATE ... WHERE status IN (allowed)``) in a transaction with the
ledger movement it causes, so a callback, the status sweeper, reconciliation and the sender may all race
and each change still happens once. A function returns False, changing nothing, when the payout is not
in a state that allows the move.

Ledger per payout (round r, raised by a retry):
    prepare / retry: the person's incentive payable -> partner clearing   key payout:<id>:r<r>:clear
    paid:            partner clearing -> incentives paid out              key payout:<id>:paid
    failed:          reversal of the round's clearing movement            key payout:<id>:r<r>:fail
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from disbursement.enums import (
    ACCOUNT_FAILURES,
    AccountKind,
    EntitlementReason,
    EntitlementStatus,
    MovementKind,
    PayoutStatus,
    ProgrammeAccount,
)
from disbursement.models import Entitlement, LedgerAccount, LedgerMovement, PaymentPartner, Payout
from disbursement.services.ledger import (
    ledger_programme_account_open,
    ledger_reverse,
    ledger_transfer,
)
from prakerja.audit import audit_log

if TYPE_CHECKING:
    from prakerja.models import User

logger = logging.getLogger(__name__)

IN_FLIGHT = (PayoutStatus.SENDING, PayoutStatus.ACCEPTED)


# --- Ledger accounts of payouts -------------------------------------------------------------------


def incentive_payable_account(*, owner_id: int) -> LedgerAccount:
    """The person's incentive payable account (what the programme owes them and has not sent yet)."""
    account, _created = LedgerAccount.objects.get_or_create(
        owner_id=owner_id, kind=AccountKind.INCENTIVE_PAYABLE
    )
    return account


def partner_clearing_account(*, partner: PaymentPartner) -> LedgerAccount:
    """Money sent to ``partner`` and not yet confirmed paid (nor failed)."""
    return ledger_programme_account_open(
        code=partner.clearing_code, name=f"Partner clearing: {partner.name}", allow_negative=False
    )


def payout_clear_key(*, payout_id: int, round: int) -> str:  # noqa: A002 - the model's field name
    return f"payout:{payout_id}:r{round}:clear"


def payout_source_account(*, payout: Payout) -> LedgerAccount:
    """Where a payout's money waits before it is sent: the person's incentive payable account, or, for a
    settlement to a platform, the platform's payable account."""
    if payout.settlement_account_id is not None:
        from disbursement.services.settlements import settlement_payable_account

        return settlement_payable_account(account_id=payout.settlement_account_id)
    return incentive_payable_account(owner_id=payout.owner_id)


def payout_paid_out_account(*, payout: Payout) -> LedgerAccount:
    """Where a paid payout's money ends: incentives paid out, or purchases settled to platforms."""
    if payout.settlement_account_id is not None:
        return ledger_programme_account_open(code=ProgrammeAccount.PLATFORMS_PAID_OUT)
    return ledger_programme_account_open(code=ProgrammeAccount.INCENTIVES_PAID_OUT)


def payout_description(*, payout: Payout) -> str:
    """The transfer's description at the partner (what the recipient sees on the statement)."""
    if payout.settlement_account_id is not None:
        return f"Penyelesaian Prakerja {payout.reference}"[:100]
    return f"Insentif Prakerja {payout.entitlement.number}"[:100]


# --- Transitions -----------------------------------------------------------------------------------


def payout_mark_sending(*, payout_id: int, resend: bool = False) -> bool:
    """QUEUED -> SENDING (or, with ``resend``, SENDING stays SENDING): one more send attempt is starting.

    Only payouts of an approved batch are sent.
    """
    allowed = [PayoutStatus.QUEUED, PayoutStatus.SENDING] if resend else [PayoutStatus.QUEUED]
    now = timezone.now()
    return bool(
        Payout.objects.filter(
            pk=payout_id, status__in=allowed, batch__status__in=["approved", "sending", "done"]
        ).update(status=PayoutStatus.SENDING, attempts=F("attempts") + 1, sending_at=now, updated_at=now)
    )


def payout_mark_accepted(*, payout_id: int, partner_id: str = "") -> bool:
    """SENDING -> ACCEPTED: the partner took the instruction and will report the result."""
    now = timezone.now()
    fields = {"status": PayoutStatus.ACCEPTED, "accepted_at": now, "updated_at": now}
    if partner_id:
        fields["partner_reference"] = partner_id
    return bool(Payout.objects.filter(pk=payout_id, status=PayoutStatus.SENDING).update(**fields))


def payout_mark_paid(
    *,
    payout_id: int,
    paid_at: datetime.datetime | None = None,
    partner_id: str = "",
    actor: User | None = None,
) -> bool:
    """SENDING | ACCEPTED | FAILED -> PAID; clearing -> paid out; the entitlement is paid.

    From FAILED (the partner paid after all, found by status inquiry or reconciliation) the failure's
    reversal is itself undone first: payable -> clearing, then clearing -> paid out.
    """
    paid_at = paid_at or timezone.now()
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("partner").filter(pk=payout_id).first()
        if payout is None or payout.status not in (*IN_FLIGHT, PayoutStatus.FAILED):
            return False
        was_failed = payout.status == PayoutStatus.FAILED
        fields = {"status": PayoutStatus.PAID, "paid_at": paid_at, "updated_at": timezone.now()}
        if partner_id:
            fields["partner_reference"] = partner_id
        Payout.objects.filter(pk=payout.pk).update(**fields)
        clearing = partner_clearing_account(partner=payout.partner)
        if was_failed:
            ledger_transfer(
                source=payout_source_account(payout=payout),
                destination=clearing,
                amount=payout.amount,
                kind=MovementKind.PAYOUT,
                idempotency_key=f"payout:{payout.pk}:r{payout.round}:late-paid",
                reference=f"disbursement.payout:{payout.pk}",
                actor=actor,
                memo="paid after it was marked failed",
            )
        ledger_transfer(
            source=clearing,
            destination=payout_paid_out_account(payout=payout),
            amount=payout.amount,
            kind=MovementKind.PAYOUT,
            idempotency_key=f"payout:{payout.pk}:paid",
            reference=f"disbursement.payout:{payout.pk}",
            actor=actor,
        )
        Entitlement.objects.filter(pk=payout.entitlement_id).update(
            status=EntitlementStatus.PAID, status_reason="", paid_at=paid_at, updated_at=timezone.now()
        )
        if was_failed or actor is not None:
            audit_log(
                actor=actor,
                action="disbursement.payout_mark_paid",
                obj=payout,
                data={"from": "failed" if was_failed else "in_flight", "amount": payout.amount},
            )
        _notify_after_commit(payout_id=payout.pk, event="paid")
    return True


def payout_mark_failed(*, payout_id: int, failure_code: str, actor: User | None = None) -> bool:
    """SENDING | ACCEPTED -> FAILED; the round's clearing movement is reversed into the payable account."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().filter(pk=payout_id).first()
        if payout is None or payout.status not in IN_FLIGHT:
            return False
        now = timezone.now()
        Payout.objects.filter(pk=payout.pk).update(
            status=PayoutStatus.FAILED, failure_code=failure_code[:60], failed_at=now, updated_at=now
        )
        clearing = LedgerMovement.objects.get(
            idempotency_key=payout_clear_key(payout_id=payout.pk, round=payout.round)
        )
        ledger_reverse(
            movement=clearing,
            idempotency_key=f"payout:{payout.pk}:r{payout.round}:fail",
            reference=f"disbursement.payout:{payout.pk}",
            actor=actor,
            memo=f"payout failed: {failure_code}"[:500],
        )
        reason = (
            EntitlementReason.ACCOUNT_CLOSED
            if failure_code in ACCOUNT_FAILURES
            else (EntitlementReason.PARTNER_FAILED)
        )
        Entitlement.objects.filter(pk=payout.entitlement_id).update(
            status=EntitlementStatus.FAILED, status_reason=reason, updated_at=now
        )
        _notify_after_commit(payout_id=payout.pk, event="failed")
    return True


def payout_retry(*, payout_id: int, actor: User | None) -> bool:
    """FAILED -> QUEUED in the same batch, same idempotency key; payable -> clearing again (next round)."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("partner").filter(pk=payout_id).first()
        if payout is None or payout.status != PayoutStatus.FAILED:
            return False
        next_round = payout.round + 1
        Payout.objects.filter(pk=payout.pk).update(
            status=PayoutStatus.QUEUED, round=next_round, failure_code="", updated_at=timezone.now()
        )
        ledger_transfer(
            source=payout_source_account(payout=payout),
            destination=partner_clearing_account(partner=payout.partner),
            amount=payout.amount,
            kind=MovementKind.PAYOUT,
            idempotency_key=payout_clear_key(payout_id=payout.pk, round=next_round),
            reference=f"disbursement.payout:{payout.pk}",
            actor=actor,
        )
        Entitlement.objects.filter(pk=payout.entitlement_id).update(
            status=EntitlementStatus.IN_BATCH, status_reason="", updated_at=timezone.now()
        )
        audit_log(actor=actor, action="disbursement.payout_retry", obj=payout, data={"round": next_round})
        transaction.on_commit(lambda: _enqueue_send(payout.pk))
    return True


def payout_move_to_next_batch(*, payout_id: int, actor: User | None) -> bool:
    """FAILED -> CANCELLED; the entitlement is due again (its money is in the payable account), so the
    next batch prepared for the person's active account pays it under a new payout and key."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().filter(pk=payout_id).first()
        if payout is None or payout.status != PayoutStatus.FAILED:
            return False
        Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.CANCELLED, updated_at=timezone.now())
        Entitlement.objects.filter(pk=payout.entitlement_id, status=EntitlementStatus.FAILED).update(
            status=EntitlementStatus.DUE, updated_at=timezone.now()
        )
        audit_log(actor=actor, action="disbursement.payout_move_to_next_batch", obj=payout, data={})
    return True


def payout_apply_result(*, payout_id: int, status: str, partner_id: str = "", failure_code: str = "") -> bool:
    """Apply what the partner said ("accepted" | "paid" | "failed"); True when something changed."""
    if status == "accepted":
        return payout_mark_accepted(payout_id=payout_id, partner_id=partner_id)
    if status == "paid":
        payout_mark_accepted(payout_id=payout_id, partner_id=partner_id)
        return payout_mark_paid(payout_id=payout_id, partner_id=partner_id)
    if status == "failed":
        return payout_mark_failed(payout_id=payout_id, failure_code=failure_code or "failed")
    raise ValueError(f"unknown partner status {status!r}")


# --- Hooks (filled in by the sending and notification modules) ------------------------------------


def _enqueue_send(payout_id: int) -> None:
    from disbursement.tasks import payout_send_task

    payout_send_task.delay(payout_id)


def _notify_after_commit(*, payout_id: int, event: str) -> None:
    from disbursement.services.notices import payout_notify

    transaction.on_commit(lambda: payout_notify(payout_id=payout_id, event=event))


# --- Sending --------------------------------------------------------------------------------------


def payout_send(*, payout_id: int, resend: bool = False) -> str:
    """Send one payout to its partner under its idempotency key and apply the answer.

    QUEUED -> SENDING first (compare-and-swap, so two workers never both send a queued payout); with
    ``resend`` (the sweeper, a task retry) a payout already SENDING is sent again with the same key,
    which the partner dedupes. A transient partner error is raised (``PartnerUnavailable``) for the
    task to retry with backoff; the payout stays SENDING. Returns what happened.
    """
    from disbursement.gateway import PartnerRejected
    from disbursement.services.partners import partner_callback_url, partner_client

    if not payout_mark_sending(payout_id=payout_id, resend=resend):
        return "skipped"
    payout = Payout.objects.select_related("partner", "entitlement").get(pk=payout_id)
    if payout.attempts == 1:
        _notify_after_commit(payout_id=payout.pk, event="sent")
    client = partner_client(partner=payout.partner)
    try:
        result = client.disbursement_create(
            idempotency_key=payout.idempotency_key,
            reference=payout.reference,
            channel=payout.channel,
            account_number=payout.account_number,
            amount=payout.amount,
            description=payout_description(payout=payout),
            callback_url=partner_callback_url(partner=payout.partner),
        )
    except PartnerRejected as exc:
        payout_mark_failed(payout_id=payout.pk, failure_code=exc.code)
        return "rejected"
    payout_apply_result(
        payout_id=payout.pk,
        status=result.status,
        partner_id=result.partner_id,
        failure_code=result.failure_code,
    )
    return result.status


def payouts_stuck_sending(*, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Payouts left in SENDING (a worker died, retries ran out) for longer than ``older_than_seconds``."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Payout.objects.filter(status=PayoutStatus.SENDING, sending_at__lt=cutoff)
        .order_by("sending_at")
        .values_list("id", flat=True)[:limit]
    )


def payouts_stuck_queued(*, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Queued payouts of a batch being sent whose send task was lost (a worker died holding it)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Payout.objects.filter(status=PayoutStatus.QUEUED, batch__status="sending", updated_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
