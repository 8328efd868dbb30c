"""Entitlements: money owed to a person, scheduled by a higher app, paid out by batches.

``entitlements_schedule`` is the door higher apps (surveys) use. It is idempotent per key: a repeat, also
two concurrent calls, returns the rows scheduled the first time and schedules nothing more.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from disbursement.enums import ENTITLEMENT_OPEN, EntitlementKind, EntitlementReason, EntitlementStatus
from disbursement.models import Entitlement
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
    reason = EntitlementReason(reason)
    with transaction.atomic():
        held = Entitlement.objects.filter(
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


__all__ = ["ENTITLEMENT_OPEN", "entitlement_key", "entitlements_hold_for_owner", "entitlements_schedule"]
