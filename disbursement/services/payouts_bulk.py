"""Payouts in chunks: the transitions of ``payouts.py`` for many payouts at once, set-based.

The rules do not change: every status change is a compare-and-swap (``UPDATE ... WHERE status IN
(allowed)``; only the rows it changed move money or tell anyone), every rupiah moves through the ledger
with the same idempotency keys as the single path (``payout:<id>:paid``), and the partner dedupes each
item of a bulk create on its own idempotency key. What changes is the cost: one claim statement, one
partner request and a few set-based statements per chunk instead of a dozen round trips per payout.

Rare outcomes (a failure, paid after being marked failed, a per-item rejection) go through the
single-payout functions, which hold the reversal and audit logic.

Lock order, the same as the single path: payout rows (in id order), then the bulk ledger lock, then
ledger accounts in the ledger's global order.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from disbursement.enums import BatchStatus, EntitlementStatus, MovementKind, PayoutStatus, ProgrammeAccount
from disbursement.gateway import protocol
from disbursement.models import Entitlement, PaymentPartner, Payout, PayoutBatch
from disbursement.services.ledger import (
    BULK_LOCK_KEY,
    _lock_accounts,
    ledger_programme_account_open,
    ledger_transfer_rows_bulk,
)
from disbursement.services.payouts import (
    IN_FLIGHT,
    partner_clearing_account,
    payout_mark_failed,
    payout_mark_paid,
)

logger = logging.getLogger(__name__)

SENDABLE_BATCH = (BatchStatus.APPROVED, BatchStatus.SENDING, BatchStatus.DONE)


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _lock_payouts(cursor, ids: list[int]) -> None:
    """Row locks on the payouts in id order, so two bulk transitions over the same rows never deadlock."""
    if connection.vendor == "postgresql" and ids:
        cursor.execute(
            f"SELECT id FROM {Payout._meta.db_table} WHERE id IN ({_marks(ids)}) ORDER BY id FOR UPDATE",  # noqa: S608
            list(ids),
        )


def _now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


# --- Transitions ------------------------------------------------------------------------------------


def payouts_claim_sending(*, payout_ids: list[int], resend: bool = False) -> dict[int, int]:
    """QUEUED -> SENDING (with ``resend`` also SENDING -> SENDING) for every payout of ``payout_ids`` of an
    approved batch, one statement. Returns {payout id: attempts} of the payouts this call claimed: only
    those may be sent by the caller."""
    if not payout_ids:
        return {}
    allowed = [PayoutStatus.QUEUED, PayoutStatus.SENDING] if resend else [PayoutStatus.QUEUED]
    now = _now()
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_payouts(cursor, payout_ids)
        cursor.execute(
            f"UPDATE {Payout._meta.db_table} SET status = %s, attempts = attempts + 1, "  # noqa: S608
            f"sending_at = %s, updated_at = %s WHERE id IN ({_marks(payout_ids)}) "
            f"AND status IN ({_marks(allowed)}) AND batch_id IN "
            f"(SELECT id FROM {PayoutBatch._meta.db_table} WHERE status IN ({_marks(SENDABLE_BATCH)})) "
            "RETURNING id, attempts",
            [PayoutStatus.SENDING, now, now, *payout_ids, *allowed, *SENDABLE_BATCH],
        )
        return dict(cursor.fetchall())


def payouts_mark_accepted_bulk(*, accepted: dict[int, str]) -> int:
    """SENDING -> ACCEPTED for {payout id: partner's id}; returns how many changed."""
    if not accepted:
        return 0
    ids = sorted(accepted)
    values = ", ".join(["(%s, %s)"] * len(ids))
    params = [value for payout_id in ids for value in (payout_id, accepted[payout_id] or "")]
    now = _now()
    table = Payout._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_payouts(cursor, ids)
        cursor.execute(
            f"UPDATE {table} SET status = %s, accepted_at = %s, updated_at = %s, "  # noqa: S608
            f"partner_reference = CASE WHEN v.column2 <> '' THEN v.column2 ELSE {table}.partner_reference END "
            f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1 AND {table}.status = %s",
            [PayoutStatus.ACCEPTED, now, now, *params, PayoutStatus.SENDING],
        )
        return cursor.rowcount


def payouts_mark_paid_bulk(*, paid: dict[int, str]) -> int:
    """SENDING | ACCEPTED -> PAID for {payout id: partner's id}; per payout clearing -> paid out through
    the ledger (key ``payout:<id>:paid``, set-based), the entitlements paid, the people told.

    A payout marked FAILED here that the partner reports paid goes through ``payout_mark_paid`` (it
    undoes the failure's reversal first). Returns how many payouts changed.
    """
    if not paid:
        return 0
    rows = Payout.objects.filter(pk__in=list(paid)).values_list("id", "partner_id", "status")
    by_partner: dict[int, list[int]] = defaultdict(list)
    changed = 0
    for payout_id, partner_id, status in rows:
        if status in IN_FLIGHT:
            by_partner[partner_id].append(payout_id)
        elif status == PayoutStatus.FAILED:
            changed += payout_mark_paid(payout_id=payout_id, partner_id=paid[payout_id])
    for partner_id, ids in by_partner.items():
        changed += _mark_paid_partner(partner=PaymentPartner.objects.get(pk=partner_id), ids=ids, paid=paid)
    return changed


def _mark_paid_partner(*, partner: PaymentPartner, ids: list[int], paid: dict[int, str]) -> int:
    table = Payout._meta.db_table
    ids = sorted(ids)
    values = ", ".join(["(%s, %s)"] * len(ids))
    params = [value for payout_id in ids for value in (payout_id, paid[payout_id] or "")]
    clearing = partner_clearing_account(partner=partner)
    incentives_paid_out = ledger_programme_account_open(code=ProgrammeAccount.INCENTIVES_PAID_OUT)
    # A settlement to a platform (no person, no entitlement) ends in "purchases settled to platforms".
    platforms_paid_out = ledger_programme_account_open(code=ProgrammeAccount.PLATFORMS_PAID_OUT)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_payouts(cursor, ids)
        cursor.execute(
            f"UPDATE {table} SET status = %s, paid_at = %s, updated_at = %s, "  # noqa: S608
            f"partner_reference = CASE WHEN v.column2 <> '' THEN v.column2 ELSE {table}.partner_reference END "
            f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1 "
            f"AND {table}.status IN (%s, %s) "
            f"RETURNING {table}.id, {table}.entitlement_id, {table}.settlement_account_id",
            [PayoutStatus.PAID, _now(), _now(), *params, *IN_FLIGHT],
        )
        moved = cursor.fetchall()
        if not moved:
            return 0
        if connection.vendor == "postgresql":
            # The bulk ledger lock before the accounts, as every bulk movement takes them.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BULK_LOCK_KEY])
        _lock_accounts(sorted([clearing.pk, incentives_paid_out.pk, platforms_paid_out.pk]))
        moved_ids = [payout_id for payout_id, _entitlement, _settlement in moved]
        groups = (
            (incentives_paid_out, [pk for pk, _entitlement, settlement in moved if settlement is None]),
            (platforms_paid_out, [pk for pk, _entitlement, settlement in moved if settlement is not None]),
        )
        for paid_out, group_ids in groups:
            if not group_ids:
                continue
            ledger_transfer_rows_bulk(
                rows_sql=(
                    "SELECT %s, p.amount, CAST(%s AS varchar(200)) || CAST(p.id AS varchar(20)) || %s "  # noqa: S608
                    f"FROM {table} p WHERE p.id IN ({_marks(group_ids)})"
                ),
                rows_params=[paid_out.pk, "payout:", ":paid", *group_ids],
                counter=clearing,
                incoming=True,
                kind=MovementKind.PAYOUT,
                reference=f"disbursement.paymentpartner:{partner.pk}",
            )
        entitlements = [entitlement for _payout, entitlement, _settlement in moved if entitlement is not None]
        Entitlement.objects.filter(pk__in=entitlements).update(
            status=EntitlementStatus.PAID, status_reason="", paid_at=now, updated_at=now
        )
        _notify_bulk_after_commit(payout_ids=moved_ids, event="paid")
    return len(moved)


def payouts_apply_results(results: dict[int, tuple[str, str, str]]) -> dict[str, int]:
    """Apply what the partner said for many payouts: {payout id: (status, partner's id, failure code)}.
    Accepted and paid in bulk, failures one by one. Returns counts of what changed."""
    accepted = {pk: pid for pk, (status, pid, _code) in results.items() if status == protocol.ACCEPTED}
    paid = {pk: pid for pk, (status, pid, _code) in results.items() if status == protocol.PAID}
    counts = {"accepted": payouts_mark_accepted_bulk(accepted=accepted)}
    if paid:
        payouts_mark_accepted_bulk(accepted=paid)  # sending -> accepted first, as the single path does
    counts["paid"] = payouts_mark_paid_bulk(paid=paid)
    counts["failed"] = sum(
        payout_mark_failed(payout_id=pk, failure_code=code or "failed")
        for pk, (status, _pid, code) in results.items()
        if status == protocol.FAILED
    )
    return counts


# --- Sending ----------------------------------------------------------------------------------------


def _description(row: dict) -> str:
    """As ``payout_description``, from plain values: what the recipient sees on the statement."""
    if row["settlement_account_id"] is not None:
        return f"Penyelesaian Prakerja {row['reference']}"[:100]
    return f"Insentif Prakerja {row['entitlement__number']}"[:100]


def payouts_send_bulk(*, payout_ids: list[int], resend: bool = False) -> dict[str, int]:
    """Send many payouts to their partners in bulk requests (``POST /v1/disbursement-batches``, up to
    ``PAYOUT_SEND_CHUNK`` items each, every item under the payout's own idempotency key) and apply the
    answers.

    Claims first (QUEUED -> SENDING, one compare-and-swap statement), so two workers never both send a
    queued payout; with ``resend`` payouts already SENDING are sent again with the same keys, which the
    partner dedupes. ``PartnerUnavailable`` propagates (the task retries with ``resend``); the claimed
    payouts stay SENDING for the retry or the sweeper. Returns counts by outcome.
    """
    from disbursement.gateway import PartnerRejected
    from disbursement.services.partners import partner_callback_url, partner_client

    counts: dict[str, int] = defaultdict(int)
    claimed = payouts_claim_sending(payout_ids=payout_ids, resend=resend)
    counts["skipped"] = len(set(payout_ids)) - len(claimed)
    if not claimed:
        return dict(counts)
    first = [pk for pk, attempts in claimed.items() if attempts == 1]
    if first:
        _notify_bulk_after_commit(payout_ids=first, event="sent")
    payouts = list(
        Payout.objects.filter(pk__in=list(claimed))
        .order_by("id")
        .values(
            "id", "partner_id", "idempotency_key", "reference", "channel", "account_number", "amount",
            "entitlement__number", "settlement_account_id",
        )
    )  # fmt: skip
    chunk_size = min(settings.PAYOUT_SEND_CHUNK, protocol.BULK_MAX_ITEMS)
    by_partner: dict[int, list[dict]] = defaultdict(list)
    for row in payouts:
        by_partner[row["partner_id"]].append(row)
    for partner_id, rows in by_partner.items():
        partner = PaymentPartner.objects.get(pk=partner_id)
        client = partner_client(partner=partner)
        callback_url = partner_callback_url(partner=partner)
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            try:
                answers = client.disbursements_create_bulk(
                    items=[
                        {
                            "idempotency_key": row["idempotency_key"],
                            "reference": row["reference"],
                            "channel": row["channel"],
                            "account_number": row["account_number"],
                            "amount": row["amount"],
                            "description": _description(row),
                            "callback_url": callback_url,
                        }
                        for row in chunk
                    ]
                )
            except PartnerRejected as exc:
                # The partner refused the request as a whole (e.g. our signature): nothing was created.
                # The payouts stay SENDING; the sweeper resends them once it is fixed.
                logger.error("payment partner %s refused a bulk create: %s", partner.pk, exc.code)
                counts["refused"] += len(chunk)
                continue
            results = {}
            for row, answer in zip(chunk, answers, strict=True):
                if answer.result is not None:
                    results[row["id"]] = (
                        answer.result.status,
                        answer.result.partner_id,
                        answer.result.failure_code,
                    )
                    counts[answer.result.status] += 1
                elif answer.transient:
                    counts["unavailable"] += 1  # stays SENDING: the task retry or the sweeper resends it
                else:
                    payout_mark_failed(payout_id=row["id"], failure_code=answer.error_code)
                    counts["rejected"] += 1
            payouts_apply_results(results)
    return dict(counts)


def payouts_status_check_bulk(*, payout_ids: list[int]) -> dict[str, int]:
    """Status inquiry for many payouts (``POST /v1/disbursement-inquiries``), applied in bulk.

    Like ``payout_status_check``: in flight or failed payouts only; a failed one changes only if the
    partner paid it after all; one the partner does not know is left to the resend sweeper.
    ``PartnerUnavailable`` propagates.
    """
    from disbursement.gateway.services import CHECKABLE
    from disbursement.services.partners import partner_client

    counts: dict[str, int] = defaultdict(int)
    rows = list(
        Payout.objects.filter(pk__in=list(payout_ids), status__in=CHECKABLE)
        .order_by("id")
        .values_list("id", "partner_id", "reference", "status")
    )
    counts["skipped"] = len(set(payout_ids)) - len(rows)
    by_partner: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_partner[row[1]].append(row)
    for partner_id, partner_rows in by_partner.items():
        client = partner_client(partner=PaymentPartner.objects.get(pk=partner_id))
        for start in range(0, len(partner_rows), protocol.BULK_MAX_ITEMS):
            chunk = partner_rows[start : start + protocol.BULK_MAX_ITEMS]
            answers = client.disbursements_status_bulk(references=[row[2] for row in chunk])
            results = {}
            for payout_id, _partner, reference, status in chunk:
                answer = answers.get(reference)
                if answer is None:
                    counts["not_found"] += 1
                elif status == PayoutStatus.FAILED and answer.status != protocol.PAID:
                    counts["unchanged"] += 1
                else:
                    results[payout_id] = (answer.status, answer.partner_id, answer.failure_code)
            changed = payouts_apply_results(results)
            counts["changed"] += changed["paid"] + changed["failed"]
    return dict(counts)


# --- Notifications ----------------------------------------------------------------------------------


def _notify_bulk(*, payout_ids: list[int], event: str) -> None:
    """The messages for ``event`` are written by a task of their own (``payouts_notify_task``), off the
    money path: a chunk's transitions do not wait for rendering and queueing a thousand messages."""
    from disbursement.services.notices import payouts_notify
    from disbursement.tasks import payouts_notify_task

    try:
        payouts_notify_task.delay(list(payout_ids), event)
    except Exception:  # noqa: BLE001 - the broker is away: write the messages here rather than lose them
        logger.warning(
            "broker unavailable: writing %d payout %s messages in this process", len(payout_ids), event
        )
        payouts_notify(payout_ids=payout_ids, event=event)


def _notify_bulk_after_commit(*, payout_ids: list[int], event: str) -> None:
    ids = list(payout_ids)
    # robust: the money has moved; a broker hiccup must not turn that into an error (the task logs it).
    transaction.on_commit(lambda: _notify_bulk(payout_ids=ids, event=event), robust=True)
