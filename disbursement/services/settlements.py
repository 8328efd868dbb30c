"""Settlement to the digital platforms, on the payout machinery.

A platform's payable account (``platform_payable:<id>``) fills with every purchase. The money becomes the
platform's to receive when the voucher is redeemed (the training started): marketplace then records a
settlement item here (``settlement_items_record``, idempotent per voucher). A Finance officer prepares a
settlement for one platform (``settlement_batch_prepare``): every open item goes into one ``Payout`` of a
new ``PayoutBatch`` to the platform's registered bank account, another officer approves the batch
(``batch_approve``: the same two-person rule, third approval and audit as incentives), and the existing
sender, callbacks, status sweeper and reconciliation carry it through ``queued -> ... -> paid | failed``.

Ledger (``ledger_check`` proves it like any payout):
    prepared   platform_payable:<id>   -> partner_clearing:<partner>    key payout:<id>:r1:clear
    paid       partner_clearing        -> platforms_paid_out            key payout:<id>:paid
    failed     reversal of the round's clearing movement (back to the platform's payable account)
    retried    platform payable        -> partner clearing again (next round, same idempotency key)

An item's state is derived from its payout, so every path that moves a payout (sender, callbacks,
reconciliation, retry, move to the next batch, cancelling the batch) moves the statement with it: an item
whose payout was cancelled is open again, and the next settlement takes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disbursement.enums import (
    EWALLET_CHANNELS,
    BatchStatus,
    MovementKind,
    PayoutStatus,
    SettlementState,
)
from disbursement.models import (
    LedgerAccount,
    LedgerEntry,
    PaymentPartner,
    Payout,
    PayoutBatch,
    SettlementAccount,
    SettlementItem,
    mask_account_number,
)
from disbursement.services.ledger import ledger_programme_account_open, ledger_transfer
from disbursement.services.partners import partner_secret_decrypt, partner_secret_encrypt
from disbursement.services.payouts import partner_clearing_account, payout_clear_key
from prakerja.audit import audit_log
from prakerja.spreadsheets import spreadsheet_csv

if TYPE_CHECKING:
    import datetime

    from prakerja.models import User

BANK_ACCOUNT_PATTERN = re.compile(r"^[0-9]{6,20}$")


class SettlementError(Exception):
    """A settlement action the rules refuse. ``message`` is translated and safe to show to an officer."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class SettlementItemIn:
    """One redeemed voucher as marketplace reports it."""

    source_reference: str  # marketplace.voucher:<id>, the item's idempotency key
    movement_id: int  # the purchase's ledger movement into the platform's payable account
    amount: int
    code: str
    description: str
    occurred_at: datetime.datetime


# --- Payees and their bank accounts -----------------------------------------------------------------


def settlement_account_ensure(*, reference: str, name: str, payable_code: str) -> SettlementAccount:
    """The settlement account of a payee (a platform), created without bank details if it is new."""
    account = SettlementAccount.objects.filter(reference=reference).first()
    if account is not None:
        if name and account.name != name[:200]:
            SettlementAccount.objects.filter(pk=account.pk).update(name=name[:200])
            account.name = name[:200]
        return account
    try:
        with transaction.atomic():
            return SettlementAccount.objects.create(
                reference=reference, name=name[:200], payable_code=payable_code
            )
    except IntegrityError:
        return SettlementAccount.objects.get(reference=reference)


def settlement_payable_account(*, account_id: int) -> LedgerAccount:
    """The ledger account the payee's money waits in (the platform's payable account)."""
    code = SettlementAccount.objects.filter(pk=account_id).values_list("payable_code", flat=True).get()
    return ledger_programme_account_open(code=code)


def settlement_account_number(account: SettlementAccount) -> str:
    """The full bank account number (decrypted); only for sending and for officers allowed to see it."""
    if not account.account_number_encrypted:
        return ""
    return partner_secret_decrypt(account.account_number_encrypted)


def settlement_bank_account_set(
    *,
    account_id: int,
    partner: PaymentPartner,
    channel: str,
    account_number: str,
    holder_name: str,
    actor: User,
) -> SettlementAccount:
    """Register or change a platform's settlement bank account (encrypted, audited with a masked number).

    Payouts already prepared keep the account they were prepared for.
    """
    if not actor.has_perm("disbursement.change_settlementaccount"):
        raise SettlementError(_("You may not change settlement bank accounts."))
    account_number = (account_number or "").replace(" ", "").replace("-", "")
    holder_name = (holder_name or "").strip()
    if not BANK_ACCOUNT_PATTERN.match(account_number):
        raise SettlementError(_("A bank account number has 6 to 20 digits."))
    if not holder_name:
        raise SettlementError(_("Enter the account holder's name as the bank knows it."))
    if channel in EWALLET_CHANNELS:
        raise SettlementError(_("A platform is paid into a bank account, not an e-wallet."))
    if not partner.active or channel not in (partner.channels or []):
        raise SettlementError(_("This payment partner does not pay into that kind of account."))
    with transaction.atomic():
        account = SettlementAccount.objects.select_for_update().filter(pk=account_id).first()
        if account is None:
            raise SettlementError(_("This settlement account does not exist."))
        before = account.account_number_masked
        SettlementAccount.objects.filter(pk=account.pk).update(
            partner=partner,
            channel=channel,
            account_number_encrypted=partner_secret_encrypt(account_number),
            account_number_masked=mask_account_number(account_number),
            holder_name=holder_name[:200],
            updated_at=timezone.now(),
            updated_by=actor,
        )
        account.refresh_from_db()
        audit_log(
            actor=actor,
            action="disbursement.settlement_account_bank_set",
            obj=account,
            data={
                "partner": partner.name,
                "channel": channel,
                "account": account.account_number_masked,
                "previous": before,
                "holder": account.holder_name,
            },
        )
    return account


# --- Items --------------------------------------------------------------------------------------------


def settlement_items_record(*, account: SettlementAccount, items: list[SettlementItemIn]) -> int:
    """Record redeemed vouchers as owed to ``account``'s payee; a voucher already recorded is skipped.

    Each item must name the ledger movement that paid its amount into the payee's payable account (the
    purchase), so nothing is settled that the platform was not paid for. Returns how many are new.
    """
    if not items:
        return 0
    payable = ledger_programme_account_open(code=account.payable_code)
    credited = dict(
        LedgerEntry.objects.filter(
            movement_id__in=[item.movement_id for item in items], account=payable, amount__gt=0
        ).values_list("movement_id", "amount")
    )
    for item in items:
        if credited.get(item.movement_id) != item.amount or item.amount <= 0:
            raise ValueError(
                f"{item.source_reference}: movement {item.movement_id} did not pay {item.amount} "
                f"into {account.payable_code}"
            )
    known = set(
        SettlementItem.objects.filter(
            source_reference__in=[item.source_reference for item in items]
        ).values_list("source_reference", flat=True)
    )
    new = [item for item in items if item.source_reference not in known]
    # A repeat (or a racing call) that gets here with the same voucher is stopped by the unique
    # source_reference and movement: the second insert changes nothing.
    SettlementItem.objects.bulk_create(
        [
            SettlementItem(
                account=account,
                source_reference=item.source_reference,
                movement_id=item.movement_id,
                amount=item.amount,
                code=item.code[:32],
                description=item.description[:200],
                occurred_at=item.occurred_at,
            )
            for item in new
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return len(new)


def _open_items(account: SettlementAccount):
    """Items with no payout, or whose payout was cancelled (withdrawn, moved to the next batch)."""
    return SettlementItem.objects.filter(account=account).filter(
        Q(payout__isnull=True) | Q(payout__status=PayoutStatus.CANCELLED)
    )


def _reference(*, batch_id: int, account_id: int) -> str:
    return f"PKS-{batch_id}-{account_id}"


def settlement_batch_prepare(*, account_id: int, actor: User | None) -> PayoutBatch | None:
    """Gather every open item of one payee into a new batch with one payout to its bank account.

    None when nothing is open. Two preparations at once never take the same item: the items are locked
    with SKIP LOCKED and moved onto the new payout by compare-and-swap; the payout's amount is the sum of
    exactly the items it got. Money: payable -> partner clearing, as for an incentive payout.
    """
    if actor is not None and not actor.has_perm("disbursement.prepare_payoutbatch"):
        raise SettlementError(_("You may not prepare payout batches."))
    account = SettlementAccount.objects.select_related("partner").filter(pk=account_id).first()
    if account is None:
        raise SettlementError(_("This settlement account does not exist."))
    if not account.has_bank_account:
        raise SettlementError(
            _("%(name)s has no settlement bank account yet: register it first.") % {"name": account.name}
        )
    if not account.partner.active:
        raise SettlementError(_("This payment partner is not active."))
    now = timezone.now()
    with transaction.atomic():
        locked = list(
            _open_items(account)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .values_list("id", "amount")
        )
        if not locked:
            return None
        ids = [item_id for item_id, _amount in locked]
        total = sum(amount for _item_id, amount in locked)
        batch = PayoutBatch.objects.create(
            partner=account.partner,
            settlement_account=account,
            prepared_by=actor if getattr(actor, "pk", None) else None,
        )
        reference = _reference(batch_id=batch.pk, account_id=account.pk)
        payout = Payout.objects.create(
            batch=batch,
            settlement_account=account,
            partner=account.partner,
            channel=account.channel,
            account_number=settlement_account_number(account),
            amount=total,
            idempotency_key=reference,
            reference=reference,
            created_at=now,
            updated_at=now,
        )
        moved = (
            SettlementItem.objects.filter(pk__in=ids)
            .filter(Q(payout__isnull=True) | Q(payout__status=PayoutStatus.CANCELLED))
            .update(payout=payout)
        )
        if moved != len(ids):  # cannot happen under the row locks; never pay for what another batch took
            raise SettlementError(_("Another settlement took some of these vouchers; prepare again."))
        ledger_transfer(
            source=ledger_programme_account_open(code=account.payable_code),
            destination=partner_clearing_account(partner=account.partner),
            amount=total,
            kind=MovementKind.SETTLEMENT,
            idempotency_key=payout_clear_key(payout_id=payout.pk, round=1),
            reference=f"disbursement.payout:{payout.pk}",
            actor=actor if getattr(actor, "pk", None) else None,
        )
        PayoutBatch.objects.filter(pk=batch.pk).update(
            payout_count=1,
            total_amount=total,
            approvals_required=2 if total > settings.PAYOUT_THIRD_APPROVAL_ABOVE else 1,
        )
        batch.refresh_from_db()
        audit_log(
            actor=actor,
            action="disbursement.settlement_prepare",
            obj=batch,
            data={
                "payee": account.reference,
                "items": len(ids),
                "amount": total,
                "partner": account.partner.name,
                "account": account.account_number_masked,
            },
        )
    return batch


# --- Reading: states and the statement -----------------------------------------------------------------


def settlement_item_state(item: SettlementItem) -> str:
    """The item's ``SettlementState``, from its payout (prefetch ``payout__batch``)."""
    payout = item.payout
    if payout is None or payout.status == PayoutStatus.CANCELLED:
        return SettlementState.OPEN
    if payout.status == PayoutStatus.PAID:
        return SettlementState.PAID
    if payout.status == PayoutStatus.FAILED:
        return SettlementState.FAILED
    if payout.status == PayoutStatus.QUEUED and payout.batch.status == BatchStatus.PREPARED:
        return SettlementState.WAITING
    return SettlementState.SENDING


def settlement_items(*, account: SettlementAccount):
    """The payee's items with their payout and batch, newest first."""
    return (
        SettlementItem.objects.filter(account=account)
        .select_related("payout__batch")
        .order_by("-occurred_at", "-id")
    )


def settlement_summary(*, account: SettlementAccount) -> dict[str, int]:
    """Counts and amounts per state, and the payable account's balance (one grouped query)."""
    rows = (
        SettlementItem.objects.filter(account=account)
        .values("payout__status", "payout__batch__status")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    summary = {f"{state.value}_{what}": 0 for state in SettlementState for what in ("count", "amount")}
    for row in rows:
        status, batch_status = row["payout__status"], row["payout__batch__status"]
        if status is None or status == PayoutStatus.CANCELLED:
            state = SettlementState.OPEN
        elif status == PayoutStatus.PAID:
            state = SettlementState.PAID
        elif status == PayoutStatus.FAILED:
            state = SettlementState.FAILED
        elif status == PayoutStatus.QUEUED and batch_status == BatchStatus.PREPARED:
            state = SettlementState.WAITING
        else:
            state = SettlementState.SENDING
        summary[f"{state.value}_count"] += row["n"]
        summary[f"{state.value}_amount"] += row["amount"] or 0
    payable = (
        LedgerAccount.objects.filter(code=account.payable_code).values_list("balance", flat=True).first()
    )
    summary["payable_balance"] = payable or 0
    return summary


STATEMENT_COLUMNS = (
    "voucher",
    "training",
    "redeemed_at",
    "amount",
    "batch",
    "payout_reference",
    "status",
    "paid_at",
)


def settlement_statement_csv(*, account: SettlementAccount) -> str:
    """The payee's statement as CSV (every cell escaped against formulas): one row per voucher."""

    def rows():
        yield STATEMENT_COLUMNS
        for item in settlement_items(account=account).iterator(chunk_size=2000):
            payout = item.payout
            live = payout is not None and payout.status != PayoutStatus.CANCELLED
            yield (
                item.code or item.source_reference,
                item.description,
                timezone.localtime(item.occurred_at).strftime("%Y-%m-%d %H:%M"),
                item.amount,
                payout.batch_id if live else "",
                payout.reference if live else "",
                str(SettlementState(settlement_item_state(item)).label),
                timezone.localtime(payout.paid_at).strftime("%Y-%m-%d %H:%M")
                if live and payout.paid_at
                else "",
            )

    return spreadsheet_csv(rows())
