"""Reconciliation: a partner's daily statement (CSV, ``openapi.yaml``) matched against the payouts.

``statement_reconcile`` stores the statement and every mismatch, by reference and amount:
paid at the partner but failed here, failed there but paid here, final there but still in flight
here, amount differs, unknown reference, and payouts sent that day that the statement leaves out.
Nothing moves while matching. Each mismatch is resolved once by ``statement_mismatch_resolve``: a
status inquiry (the payout moves through the compare-and-swap transitions), marking a payout paid
that the partner paid (``payout_mark_paid``: the ledger moves), or a note that the programme takes it up
with the partner. Every step is audited.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import zoneinfo
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from disbursement.enums import MismatchKind, MismatchResolution, PayoutStatus
from disbursement.gateway import protocol
from disbursement.models import PartnerStatement, PaymentPartner, Payout, StatementMismatch
from prakerja.audit import audit_log

if TYPE_CHECKING:
    from prakerja.models import User

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
MAX_STATEMENT_BYTES = 50 * 1024 * 1024
PERMISSION = "disbursement.reconcile_partnerstatement"
IN_FLIGHT = (PayoutStatus.SENDING, PayoutStatus.ACCEPTED)


class ReconciliationError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _rows(content: bytes) -> list[dict]:
    if len(content) > MAX_STATEMENT_BYTES:
        raise ReconciliationError(_("The statement file is too large (at most 50 MB)."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReconciliationError(_("The statement must be a UTF-8 CSV file.")) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"reference", "amount", "status"} - set(reader.fieldnames or [])
    if missing:
        raise ReconciliationError(
            _("The statement has no column %(columns)s; expected the partner protocol's columns.")
            % {"columns": ", ".join(sorted(missing))}
        )
    rows = []
    for line, row in enumerate(reader, start=2):
        reference = (row.get("reference") or "").strip()
        status = (row.get("status") or "").strip()
        amount = (row.get("amount") or "").strip()
        if not reference or status not in protocol.STATUSES or not amount.isdigit():
            raise ReconciliationError(
                _("Line %(line)d of the statement is not valid (reference, amount in whole rupiah, status).")
                % {"line": line}
            )
        rows.append({"reference": reference, "status": status, "amount": int(amount)})
    return rows


def statement_reconcile(
    *, partner: PaymentPartner, day: datetime.date, content: bytes, officer: User
) -> PartnerStatement:
    """Match ``partner``'s statement for ``day`` and store every mismatch. The same file twice: the first."""
    if not officer.has_perm(PERMISSION):
        raise ReconciliationError(_("You may not reconcile partner statements."))
    rows = _rows(content)
    digest = hashlib.sha256(content).hexdigest()
    existing = PartnerStatement.objects.filter(partner=partner, file_sha256=digest).first()
    if existing is not None:
        return existing
    start = datetime.datetime.combine(day, datetime.time(), JAKARTA)
    references = [row["reference"] for row in rows]
    payouts = {
        payout.reference: payout
        for payout in Payout.objects.filter(partner=partner, reference__in=references).only(
            "id", "reference", "status", "amount"
        )
    }
    mismatches: list[StatementMismatch] = []
    matched = 0
    for row in rows:
        payout = payouts.get(row["reference"])
        kind = _compare(row, payout)
        if kind is None:
            matched += 1
            continue
        mismatches.append(
            StatementMismatch(
                kind=kind,
                reference=row["reference"],
                payout=payout,
                partner_status=row["status"],
                partner_amount=row["amount"],
                portal_status=payout.status if payout else "",
                portal_amount=payout.amount if payout else None,
            )
        )
    listed = set(references)
    sent_that_day = Payout.objects.filter(
        partner=partner,
        status__in=[*IN_FLIGHT, PayoutStatus.PAID, PayoutStatus.FAILED],
        sending_at__gte=start,
        sending_at__lt=start + datetime.timedelta(days=1),
    ).only("id", "reference", "status", "amount")
    for payout in sent_that_day.iterator(chunk_size=2000):
        if payout.reference not in listed and payout.status != PayoutStatus.FAILED:
            mismatches.append(
                StatementMismatch(
                    kind=MismatchKind.MISSING,
                    reference=payout.reference,
                    payout=payout,
                    portal_status=payout.status,
                    portal_amount=payout.amount,
                )
            )
    try:
        with transaction.atomic():
            statement = PartnerStatement.objects.create(
                partner=partner,
                day=day,
                file_sha256=digest,
                uploaded_by=officer,
                row_count=len(rows),
                matched_count=matched,
                mismatch_count=len(mismatches),
            )
            for mismatch in mismatches:
                mismatch.statement = statement
            StatementMismatch.objects.bulk_create(mismatches, batch_size=2000)
            audit_log(
                actor=officer,
                action="disbursement.statement_reconcile",
                obj=statement,
                data={
                    "day": day.isoformat(),
                    "rows": len(rows),
                    "matched": matched,
                    "mismatches": len(mismatches),
                },
            )
    except IntegrityError:  # the same file uploaded twice at once
        return PartnerStatement.objects.get(partner=partner, file_sha256=digest)
    return statement


def _compare(row: dict, payout: Payout | None) -> str | None:
    if payout is None:
        return MismatchKind.UNKNOWN_REFERENCE
    if row["amount"] != payout.amount:
        return MismatchKind.AMOUNT_DIFFERS
    if row["status"] == protocol.PAID and payout.status == PayoutStatus.FAILED:
        return MismatchKind.PAID_THERE_FAILED_HERE
    if row["status"] == protocol.FAILED and payout.status == PayoutStatus.PAID:
        return MismatchKind.FAILED_THERE_PAID_HERE
    if row["status"] in protocol.FINAL_STATUSES and payout.status in IN_FLIGHT:
        return MismatchKind.STATUS_DIFFERS
    return None


# What each kind of mismatch may be resolved with.
ACTIONS = {
    MismatchKind.PAID_THERE_FAILED_HERE: (MismatchResolution.RECHECKED, MismatchResolution.MARKED_PAID,
                                          MismatchResolution.ACKNOWLEDGED),
    MismatchKind.FAILED_THERE_PAID_HERE: (MismatchResolution.RECHECKED, MismatchResolution.ACKNOWLEDGED),
    MismatchKind.STATUS_DIFFERS: (MismatchResolution.RECHECKED, MismatchResolution.ACKNOWLEDGED),
    MismatchKind.AMOUNT_DIFFERS: (MismatchResolution.ACKNOWLEDGED,),
    MismatchKind.UNKNOWN_REFERENCE: (MismatchResolution.ACKNOWLEDGED,),
    MismatchKind.MISSING: (MismatchResolution.RECHECKED, MismatchResolution.ACKNOWLEDGED),
}  # fmt: skip


def statement_mismatch_resolve(*, mismatch_id: int, action: str, officer: User, note: str = "") -> str:
    """Resolve one mismatch once. ``rechecked``: a status inquiry, applied through the transitions;
    ``marked_paid``: the partner paid a payout failed here (ledger: payable -> clearing -> paid out);
    ``acknowledged``: a note (required), nothing moves. Returns what happened to the payout."""
    from disbursement.gateway.services import payout_status_check
    from disbursement.services.payouts import payout_mark_paid

    if not officer.has_perm(PERMISSION):
        raise ReconciliationError(_("You may not reconcile partner statements."))
    mismatch = StatementMismatch.objects.select_related("payout").filter(pk=mismatch_id).first()
    if mismatch is None:
        raise ReconciliationError(_("This mismatch does not exist."))
    if action not in ACTIONS[mismatch.kind]:
        raise ReconciliationError(_("This resolution does not fit this kind of mismatch."))
    note = note.strip()[:500]
    if action == MismatchResolution.ACKNOWLEDGED and not note:
        raise ReconciliationError(_("Write a note on how the difference is taken up with the partner."))
    with transaction.atomic():
        claimed = StatementMismatch.objects.filter(pk=mismatch.pk, resolution=MismatchResolution.OPEN).update(
            resolution=action, resolved_by=officer, resolved_at=timezone.now(), note=note
        )
        if not claimed:
            raise ReconciliationError(_("This mismatch was already resolved."))
        outcome = "none"
        if action == MismatchResolution.MARKED_PAID:
            outcome = "paid" if payout_mark_paid(payout_id=mismatch.payout_id, actor=officer) else "unchanged"
        audit_log(
            actor=officer,
            action="disbursement.statement_mismatch_resolve",
            obj=mismatch.statement,
            data={"mismatch": mismatch.pk, "kind": mismatch.kind, "reference": mismatch.reference,
                  "resolution": action, "note": note},
        )  # fmt: skip
    if action == MismatchResolution.RECHECKED and mismatch.payout_id:
        outcome = payout_status_check(payout_id=mismatch.payout_id)  # outside the transaction: HTTP
    return outcome
