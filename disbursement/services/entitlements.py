"""Entitlements: money owed to a person, scheduled by a higher app, paid out by batches.

``entitlements_schedule`` is the door higher apps (surveys) use. It is idempotent per key: a repeat, also
two concurrent calls, returns the rows scheduled the first time and schedules nothing more.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from disbursement.enums import (
    ENTITLEMENT_OPEN,
    AccountKind,
    BatchStatus,
    EntitlementKind,
    EntitlementReason,
    EntitlementStatus,
    MovementKind,
    PayoutStatus,
    ProgrammeAccount,
)
from disbursement.models import Entitlement, LedgerAccount, LedgerMovement, Payout
from disbursement.services.ledger import (
    BulkResult,
    ledger_accounts_open_bulk,
    ledger_programme_account_open,
    ledger_transfer_rows_bulk,
)
from prakerja.audit import audit_log

if TYPE_CHECKING:
    from prakerja.models import User


def entitlement_key(*, idempotency_key: str, number: int) -> str:
    """The key of the ``number``-th row scheduled under ``idempotency_key``."""
    return f"{idempotency_key}:{number}"


def entitlements_schedule(
    *,
    owner: User,
    kind: str,
    amount: int,
    count: int = 1,
    interval_days: int = 30,
    first_due_on: datetime.date | None = None,
    first_number: int = 1,
    reference: str,
    idempotency_key: str,
    actor: User | None = None,
) -> list[Entitlement]:
    """Schedule ``count`` payments of ``amount`` rupiah to ``owner``, numbered ``first_number``..

    The i-th (from 0) is due on ``first_due_on`` (default: today in Asia/Jakarta) + i * ``interval_days``.
    Each row's key is ``f"{idempotency_key}:{number}"``. Idempotent: a repeat returns the existing rows.
    Nothing moves in the ledger yet: ``entitlements_accrue_due`` does that on the due day.
    """
    if kind not in EntitlementKind.values:
        raise ValueError(f"unknown entitlement kind {kind!r}")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("an entitlement is a positive whole-rupiah amount")
    if count < 1 or first_number < 1 or interval_days < 0:
        raise ValueError("count and first_number start at 1; interval_days is not negative")
    first_due_on = first_due_on or timezone.localdate()
    numbers = range(first_number, first_number + count)
    keys = [entitlement_key(idempotency_key=idempotency_key, number=n) for n in numbers]
    existing = list(Entitlement.objects.filter(idempotency_key__in=keys).order_by("due_on", "number"))
    if len(existing) == count:
        return existing
    with transaction.atomic():
        # One schedule per person at a time: a concurrent call waits here, then finds the rows.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk").get()
        existing = {e.idempotency_key for e in Entitlement.objects.filter(idempotency_key__in=keys)}
        now = timezone.now()
        rows = [
            Entitlement(
                owner_id=owner.pk,
                kind=kind,
                number=number,
                amount=amount,
                due_on=first_due_on + datetime.timedelta(days=i * interval_days),
                reference=reference,
                idempotency_key=key,
                created_at=now,
                updated_at=now,
            )
            for i, (number, key) in enumerate(zip(numbers, keys, strict=True))
            if key not in existing
        ]
        Entitlement.objects.bulk_create(rows)
        if rows:
            audit_log(
                actor=actor,
                action="disbursement.entitlements_schedule",
                obj=owner,
                data={
                    "kind": kind,
                    "amount": amount,
                    "numbers": [row.number for row in rows],
                    "first_due_on": rows[0].due_on.isoformat(),
                    "reference": reference,
                    "idempotency_key": idempotency_key,
                },
            )
    return list(Entitlement.objects.filter(idempotency_key__in=keys).order_by("due_on", "number"))


def entitlements_hold_for_owner(*, owner: User, reason: str, actor: User | None = None) -> int:
    """Hold every open (scheduled or due) entitlement of ``owner`` with ``reason`` (an EntitlementReason).

    Called by cohorts when it revokes a participant and by batch approval when a person is newly
    excluded. Money already accrued stays in the person's payable account. Returns the rows held.
    """
    from disbursement.services.batches import payouts_withdraw

    reason = EntitlementReason(reason)
    with transaction.atomic():
        # Payouts prepared but not yet approved are taken out again (their money back to payable).
        queued = Payout.objects.filter(
            owner_id=owner.pk, status=PayoutStatus.QUEUED, batch__status=BatchStatus.PREPARED
        ).values_list("id", flat=True)
        withdrawn = payouts_withdraw(payout_ids=list(queued), reason=reason, actor=actor)
        held = withdrawn + Entitlement.objects.filter(
            owner_id=owner.pk, status__in=[EntitlementStatus.SCHEDULED, EntitlementStatus.DUE]
        ).update(status=EntitlementStatus.HELD, status_reason=reason, updated_at=timezone.now())
        if held:
            audit_log(
                actor=actor,
                action="disbursement.entitlements_hold",
                obj=owner,
                data={"held": held, "reason": str(reason.value)},
            )
    return held


ACCRUE_KEY_PREFIX = "entitlement-accrue:"


def entitlements_accrue_due(*, today: datetime.date | None = None) -> BulkResult:
    """Move the amount of every entitlement due by ``today`` from the incentive budget to its owner's
    incentive payable account, and mark it due (a held one stays held, its money now owed).

    Set-based (one bulk movement, key ``entitlement-accrue:<id>`` each) and safe to repeat or to run
    twice at once: a beat job runs it every hour.
    """
    today = today or timezone.localdate()
    pending = Entitlement.objects.filter(
        accrued_at__isnull=True,
        due_on__lte=today,
        status__in=[EntitlementStatus.SCHEDULED, EntitlementStatus.HELD],
    )
    with transaction.atomic():
        ledger_accounts_open_bulk(
            owners=get_user_model().objects.filter(pk__in=pending.values("owner_id")),
            kind=AccountKind.INCENTIVE_PAYABLE,
        )
        entitlements = Entitlement._meta.db_table
        accounts = LedgerAccount._meta.db_table
        result = ledger_transfer_rows_bulk(
            rows_sql=(
                f"SELECT a.id, e.amount, CAST(%s AS varchar(200)) || CAST(e.id AS varchar(20)) "  # noqa: S608
                f"FROM {entitlements} e JOIN {accounts} a ON a.owner_id = e.owner_id AND a.kind = %s "
                "WHERE e.accrued_at IS NULL AND e.due_on <= %s AND e.status IN (%s, %s)"
            ),
            rows_params=[
                ACCRUE_KEY_PREFIX,
                AccountKind.INCENTIVE_PAYABLE,
                today,
                EntitlementStatus.SCHEDULED,
                EntitlementStatus.HELD,
            ],
            counter=ledger_programme_account_open(code=ProgrammeAccount.INCENTIVE_BUDGET),
            incoming=True,
            kind=MovementKind.INCENTIVE,
            reference="disbursement.entitlements_accrue_due",
        )
        accrued = LedgerMovement.objects.filter(
            idempotency_key=Concat(
                Value(ACCRUE_KEY_PREFIX), Cast(OuterRef("pk"), CharField()), output_field=CharField()
            )
        )
        now = timezone.now()
        pending.filter(Exists(accrued)).update(
            accrued_at=now,
            updated_at=now,
            status=Case(
                When(status=EntitlementStatus.SCHEDULED, then=Value(EntitlementStatus.DUE)),
                default=F("status"),
            ),
        )
    return result


def entitlement_release(*, entitlement_id: int, actor: User) -> bool:
    """HELD -> DUE (or SCHEDULED when not yet accrued): an officer lifts a hold. Audited."""
    with transaction.atomic():
        entitlement = Entitlement.objects.select_for_update().filter(pk=entitlement_id).first()
        if entitlement is None or entitlement.status != EntitlementStatus.HELD:
            return False
        status = EntitlementStatus.DUE if entitlement.accrued_at else EntitlementStatus.SCHEDULED
        Entitlement.objects.filter(pk=entitlement.pk).update(
            status=status, status_reason="", updated_at=timezone.now()
        )
        audit_log(
            actor=actor,
            action="disbursement.entitlement_release",
            obj=entitlement,
            data={"to": str(status), "was": entitlement.status_reason},
        )
    return True


__all__ = [
    "entitlement_release",
    "entitlements_accrue_due",
    "ENTITLEMENT_OPEN",
    "entitlement_key",
    "entitlements_hold_for_owner",
    "entitlements_schedule",
]
