"""Payout batches: prepare (per partner), approve (two-person rule, third approval above an amount),
send (Celery, one task and one bulk partner request per chunk of payouts), with exclusion lists re-applied before the money can leave.

Money: preparing moves each payout's amount from the person's incentive payable account to the
partner's clearing account; a payout withdrawn before approval (held, cancelled) moves it back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disbursement.enums import (
    AccountKind,
    BatchStatus,
    EntitlementReason,
    EntitlementStatus,
    MovementKind,
    PayoutAccountStatus,
    PayoutStatus,
)
from disbursement.models import (
    Entitlement,
    LedgerAccount,
    LedgerMovement,
    PaymentPartner,
    Payout,
    PayoutAccount,
    PayoutBatch,
    PayoutBatchApproval,
)
from disbursement.services.ledger import ledger_reverse, ledger_transfer_rows_bulk
from disbursement.services.payouts import partner_clearing_account, payout_clear_key
from prakerja.audit import audit_log

if TYPE_CHECKING:
    from prakerja.models import User

logger = logging.getLogger(__name__)


class BatchError(Exception):
    """A batch action the rules refuse. ``message`` is translated and safe to show to an officer."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


CHUNK = 5000


def _chunks(items: list) -> list[list]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _reference(*, batch_id: int, entitlement_id: int) -> str:
    return f"PKJ-{batch_id}-{entitlement_id}"


def batch_prepare(
    *, partner: PaymentPartner, actor: User | None = None, limit: int | None = None
) -> PayoutBatch | None:
    """Gather due entitlements whose owner has an active account at ``partner`` (past its cooling-off)
    into one new batch, up to the partner's per-batch limit. None when nothing is due.

    Two preparers at once never take the same entitlement: the rows are locked with SKIP LOCKED, moved
    to IN_BATCH by compare-and-swap, and the database allows one live payout per entitlement.
    """
    if actor is not None and not actor.has_perm("disbursement.prepare_payoutbatch"):
        raise BatchError(_("You may not prepare payout batches."))
    if not partner.active:
        raise BatchError(_("This payment partner is not active."))
    limit = min(limit or partner.batch_limit, partner.batch_limit)
    now = timezone.now()
    accounts = PayoutAccount.objects.filter(partner=partner, status=PayoutAccountStatus.ACTIVE).filter(
        Q(payable_from__isnull=True) | Q(payable_from__lte=now)
    )
    with transaction.atomic():
        candidates = (
            Entitlement.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=EntitlementStatus.DUE,
                accrued_at__isnull=False,
                owner_id__in=accounts.values("owner_id"),
            )
            .order_by("due_on", "id")
            .values_list("id", flat=True)[:limit]
        )
        ids = list(candidates)
        # Read in chunks (a statement carries at most 65,535 parameters); an owner whose account changed
        # since the selection keeps the entitlement due for the next batch.
        rows, account_of = [], {}
        for chunk in _chunks(ids):
            part = list(
                Entitlement.objects.filter(pk__in=chunk, status=EntitlementStatus.DUE).values_list(
                    "id", "owner_id", "amount"
                )
            )
            account_of.update(
                {a.owner_id: a for a in accounts.filter(owner_id__in={owner for _, owner, _ in part})}
            )
            rows += [row for row in part if row[1] in account_of]
        if not rows:
            return None
        batch = PayoutBatch.objects.create(
            partner=partner, prepared_by=actor if getattr(actor, "pk", None) else None
        )
        for chunk in _chunks(rows):
            Entitlement.objects.filter(pk__in=[row[0] for row in chunk], status=EntitlementStatus.DUE).update(
                status=EntitlementStatus.IN_BATCH, status_reason="", updated_at=now
            )
            Payout.objects.bulk_create(
                [
                    Payout(
                        batch=batch,
                        entitlement_id=entitlement_id,
                        owner_id=owner_id,
                        partner=partner,
                        account=account_of[owner_id],
                        channel=account_of[owner_id].channel,
                        account_number=account_of[owner_id].account_number,
                        amount=amount,
                        idempotency_key=_reference(batch_id=batch.pk, entitlement_id=entitlement_id),
                        reference=_reference(batch_id=batch.pk, entitlement_id=entitlement_id),
                        created_at=now,
                        updated_at=now,
                    )
                    for entitlement_id, owner_id, amount in chunk
                ],
                batch_size=1000,
            )
        _clear_batch(batch=batch)
        totals = Payout.objects.filter(batch=batch).aggregate(n=Count("id"), total=Sum("amount"))
        batch.payout_count = totals["n"]
        batch.total_amount = totals["total"] or 0
        batch.approvals_required = 2 if batch.total_amount > settings.PAYOUT_THIRD_APPROVAL_ABOVE else 1
        batch.save(update_fields=["payout_count", "total_amount", "approvals_required"])
        audit_log(
            actor=actor,
            action="disbursement.batch_prepare",
            obj=batch,
            data={"payouts": batch.payout_count, "amount": batch.total_amount, "partner": partner.name},
        )
    return batch


def _clear_batch(*, batch: PayoutBatch) -> None:
    """payable -> partner clearing for every round-1 payout of ``batch`` still queued, set-based."""
    payouts = Payout._meta.db_table
    accounts = LedgerAccount._meta.db_table
    ledger_transfer_rows_bulk(
        rows_sql=(
            "SELECT a.id, p.amount, CAST(%s AS varchar(200)) || CAST(p.id AS varchar(20)) || %s "  # noqa: S608
            f"FROM {payouts} p JOIN {accounts} a ON a.owner_id = p.owner_id AND a.kind = %s "
            "WHERE p.batch_id = %s AND p.round = 1"
        ),
        rows_params=["payout:", ":r1:clear", AccountKind.INCENTIVE_PAYABLE, batch.pk],
        counter=partner_clearing_account(partner=batch.partner),
        incoming=False,
        kind=MovementKind.PAYOUT,
        reference=f"disbursement.payoutbatch:{batch.pk}",
    )


def batches_prepare_due(*, actor: User | None = None) -> list[PayoutBatch]:
    """Accrue what fell due, then prepare batches for every active partner until nothing is left.

    The hourly beat job; officers approve what it prepared.
    """
    from disbursement.services.entitlements import entitlements_accrue_due

    entitlements_accrue_due()
    prepared = []
    for partner in PaymentPartner.objects.filter(active=True).order_by("id"):
        while (batch := batch_prepare(partner=partner, actor=actor)) is not None:
            prepared.append(batch)
            if batch.payout_count < partner.batch_limit:
                break
    return prepared


def payouts_withdraw(*, payout_ids: list[int], reason: str, actor: User | None = None) -> int:
    """Take queued payouts of unapproved batches out (CANCELLED), money back to the payable account, and
    hold their entitlements with ``reason``. Returns how many were withdrawn."""
    withdrawn = 0
    with transaction.atomic():
        for payout in (
            Payout.objects.select_for_update()
            .filter(pk__in=payout_ids, status=PayoutStatus.QUEUED, batch__status=BatchStatus.PREPARED)
            .order_by("id")
        ):
            Payout.objects.filter(pk=payout.pk).update(
                status=PayoutStatus.CANCELLED, updated_at=timezone.now()
            )
            clearing = LedgerMovement.objects.get(
                idempotency_key=payout_clear_key(payout_id=payout.pk, round=payout.round)
            )
            ledger_reverse(
                movement=clearing,
                idempotency_key=f"payout:{payout.pk}:r{payout.round}:withdraw",
                reference=f"disbursement.payout:{payout.pk}",
                actor=actor,
                memo=f"withdrawn: {reason}",
            )
            Entitlement.objects.filter(pk=payout.entitlement_id).update(
                status=EntitlementStatus.HELD, status_reason=reason, updated_at=timezone.now()
            )
            PayoutBatch.objects.filter(pk=payout.batch_id).update(
                payout_count=F("payout_count") - 1, total_amount=F("total_amount") - payout.amount
            )
            withdrawn += 1
    return withdrawn


def _screen(*, batch: PayoutBatch, actor: User) -> dict[str, int]:
    """Re-apply the exclusion lists to the batch's people; hold the newly excluded and anyone with a
    hold on record (revoked, blacklisted: cohorts holds them through ``entitlements_hold_for_owner``)."""
    from registration.models import Applicant
    from registration.services import screening_apply

    queued = Payout.objects.filter(batch=batch, status=PayoutStatus.QUEUED)
    applicant_ids = list(
        Applicant.objects.filter(user_id__in=queued.values("owner_id")).values_list("id", flat=True)
    )
    for chunk in _chunks(applicant_ids):
        screening_apply(applicant_ids=chunk)
    excluded = list(queued.filter(owner__applicant__is_excluded=True).values_list("id", flat=True))
    held_owners = Entitlement.objects.filter(status=EntitlementStatus.HELD).exclude(
        status_reason=EntitlementReason.EXCLUDED
    )
    on_hold = list(
        queued.exclude(pk__in=excluded)
        .filter(owner_id__in=held_owners.values("owner_id"))
        .values_list("id", "owner_id")
    )
    counts = {
        "excluded": payouts_withdraw(payout_ids=excluded, reason=EntitlementReason.EXCLUDED, actor=actor)
    }
    held = 0
    for payout_id, owner_id in on_hold:
        reason = (
            held_owners.filter(owner_id=owner_id).values_list("status_reason", flat=True).first()
            or EntitlementReason.OFFICER
        )
        held += payouts_withdraw(payout_ids=[payout_id], reason=reason, actor=actor)
    counts["held"] = held
    return counts


def batch_approve(*, batch_id: int, officer: User, send: bool = True) -> PayoutBatch:
    """Record ``officer``'s approval. The preparer may not approve; nobody approves twice; when enough
    officers approved, the batch is APPROVED and Celery starts sending. Before the first approval the
    exclusion lists are re-applied and anyone newly excluded or on hold is taken out (with a reason).
    ``send=False`` (demo data only) approves without queueing the sends.
    """
    if not officer.has_perm("disbursement.approve_payoutbatch"):
        raise BatchError(_("You may not approve payout batches."))
    prepared_by = PayoutBatch.objects.filter(pk=batch_id).values_list("prepared_by_id", flat=True).first()
    if prepared_by is not None and prepared_by == officer.pk:
        audit_log(
            actor=officer,
            action="disbursement.batch_approve_refused",
            obj=PayoutBatch.objects.get(pk=batch_id),
            data={"why": "preparer"},
        )
        raise BatchError(_("You prepared this batch: another officer must approve it (two-person rule)."))
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().select_related("partner").filter(pk=batch_id).first()
        if batch is None:
            raise BatchError(_("This batch does not exist."))
        if batch.status != BatchStatus.PREPARED:
            raise BatchError(_("This batch is not waiting for approval."))
        if batch.prepared_by_id == officer.pk:
            raise BatchError(_("You prepared this batch: another officer must approve it (two-person rule)."))
        if PayoutBatchApproval.objects.filter(batch=batch, officer=officer).exists():
            raise BatchError(_("You have already approved this batch; another officer must approve it too."))
        screened = _screen(batch=batch, actor=officer)
        PayoutBatchApproval.objects.create(batch=batch, officer=officer)
        approvals = PayoutBatchApproval.objects.filter(batch=batch).count()
        batch.refresh_from_db()
        complete = approvals >= batch.approvals_required
        if complete:
            batch.status = BatchStatus.APPROVED if batch.payout_count else BatchStatus.DONE
            batch.approved_at = timezone.now()
            batch.save(update_fields=["status", "approved_at"])
            if batch.payout_count and send:
                transaction.on_commit(lambda: _enqueue_batch(batch.pk))
        audit_log(
            actor=officer,
            action="disbursement.batch_approve",
            obj=batch,
            data={
                "approval": approvals,
                "required": batch.approvals_required,
                "complete": complete,
                "amount": batch.total_amount,
                **screened,
            },
        )
    return batch


def batch_cancel(*, batch_id: int, officer: User) -> PayoutBatch:
    """Cancel a batch waiting for approval: its payouts are withdrawn, the entitlements due again."""
    if not officer.has_perm("disbursement.prepare_payoutbatch"):
        raise BatchError(_("You may not cancel payout batches."))
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status != BatchStatus.PREPARED:
            raise BatchError(_("Only a batch waiting for approval can be cancelled."))
        ids = list(
            Payout.objects.filter(batch=batch, status=PayoutStatus.QUEUED).values_list("id", flat=True)
        )
        payouts_withdraw(payout_ids=ids, reason=EntitlementReason.OFFICER, actor=officer)
        Entitlement.objects.filter(payouts__batch=batch, status=EntitlementStatus.HELD).update(
            status=EntitlementStatus.DUE, status_reason=""
        )
        PayoutBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.CANCELLED, finished_at=timezone.now()
        )
        audit_log(actor=officer, action="disbursement.batch_cancel", obj=batch, data={"payouts": len(ids)})
        batch.refresh_from_db()
    return batch


def batch_send(*, batch_id: int) -> int:
    """Queue one send task per queued payout of an approved batch; the batch is then SENDING."""
    PayoutBatch.objects.filter(pk=batch_id, status=BatchStatus.APPROVED).update(status=BatchStatus.SENDING)
    ids = list(
        Payout.objects.filter(
            batch_id=batch_id, status=PayoutStatus.QUEUED, batch__status=BatchStatus.SENDING
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    from disbursement.tasks import payouts_send_in_chunks

    return payouts_send_in_chunks(ids)


def batch_finish_if_done(*, batch_id: int) -> bool:
    """APPROVED | SENDING -> DONE once no payout of the batch is queued or in flight."""
    open_payouts = Payout.objects.filter(
        batch_id=batch_id, status__in=[PayoutStatus.QUEUED, PayoutStatus.SENDING, PayoutStatus.ACCEPTED]
    )
    if open_payouts.exists():
        return False
    return bool(
        PayoutBatch.objects.filter(
            pk=batch_id, status__in=[BatchStatus.APPROVED, BatchStatus.SENDING]
        ).update(status=BatchStatus.DONE, finished_at=timezone.now())
    )


def batch_progress(*, batch: PayoutBatch) -> dict[str, int]:
    """Counts and amounts by payout status, one GROUP BY."""
    rows = Payout.objects.filter(batch=batch).values("status").annotate(n=Count("id"), amount=Sum("amount"))
    by_status = {row["status"]: (row["n"], row["amount"] or 0) for row in rows}
    progress = {}
    for status in PayoutStatus:
        n, amount = by_status.get(status, (0, 0))
        progress[f"{status.value}_count"] = n
        progress[f"{status.value}_amount"] = amount
    live = [s for s in PayoutStatus if s != PayoutStatus.CANCELLED]
    progress["total_count"] = sum(by_status.get(s, (0, 0))[0] for s in live)
    progress["total_amount"] = sum(by_status.get(s, (0, 0))[1] for s in live)
    progress["sent_count"] = sum(
        by_status.get(s, (0, 0))[0]
        for s in (PayoutStatus.SENDING, PayoutStatus.ACCEPTED, PayoutStatus.PAID, PayoutStatus.FAILED)
    )
    return progress


def _enqueue_batch(batch_id: int) -> None:
    from disbursement.tasks import batch_send_task

    batch_send_task.delay(batch_id)
