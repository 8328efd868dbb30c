"""Reads of the ledger: balances from entries, statements, and the consistency check."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import CharField, Exists, OuterRef, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat

from disbursement.enums import ACCOUNT_FAILURES, EntitlementKind, PayoutStatus
from disbursement.models import Entitlement, LedgerAccount, LedgerEntry, LedgerMovement, Payout, PayoutAccount
from disbursement.services.ledger import ledger_batch_key_prefix

DETAIL_LIMIT = 20


@dataclass(frozen=True)
class BalanceMismatch:
    account_id: int
    cached: int  # the balance column
    derived: int  # the sum of the account's entries


@dataclass(frozen=True)
class LedgerCheckResult:
    accounts_checked: int
    balance_mismatch_count: int
    movements_checked: int
    unbalanced_movement_count: int
    entries_sum: int
    # The first DETAIL_LIMIT of each problem, for the report.
    balance_mismatches: list[BalanceMismatch] = field(default_factory=list)
    unbalanced_movement_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.balance_mismatch_count or self.unbalanced_movement_count or self.entries_sum)


def ledger_balance_derived(*, account: LedgerAccount) -> int:
    """The balance of ``account`` computed from its entries (the cached column must equal it)."""
    return LedgerEntry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0


def ledger_statement(*, account: LedgerAccount, limit: int = 50):
    """The newest ``limit`` entries of ``account`` with their movements, newest first."""
    return LedgerEntry.objects.filter(account=account).select_related("movement").order_by("-id")[:limit]


def ledger_accounts_without_movement(*, accounts: QuerySet, key_prefix: str) -> QuerySet:
    """The accounts in ``accounts`` that have no movement under ``ledger_bulk_key(key_prefix, id)`` yet,
    nor a leg of a batch credit under ``key_prefix`` (``ledger_accounts_open_credited_bulk``).

    For a bulk credit that must skip the accounts another bulk call already credited under the same
    prefix (e.g. ``ledger_accounts_open_credited_bulk``) without staging and re-checking each of them.
    """
    key = Concat(
        Value(f"{key_prefix}:"), Cast(OuterRef("pk"), output_field=CharField()), output_field=CharField()
    )
    batch_leg = LedgerEntry.objects.filter(
        account=OuterRef("pk"),
        amount__gt=0,
        movement__idempotency_key__startswith=ledger_batch_key_prefix(key_prefix),
    )
    # The batch test first: after an announcement nearly every account has such a leg.
    return accounts.exclude(Exists(batch_leg)).exclude(
        Exists(LedgerMovement.objects.filter(idempotency_key=key))
    )


def ledger_check() -> LedgerCheckResult:
    """Prove the ledger adds up, set-based (one GROUP BY pass over the entries per question).

    - every account's cached balance equals the sum of its entries;
    - every movement has one leg out of -amount and legs into that sum to +amount: one leg, or one
      per account credited by a batch (``ledger_accounts_open_credited_bulk``);
    - all entries together sum to zero.
    """
    accounts = LedgerAccount._meta.db_table
    movements = LedgerMovement._meta.db_table
    entries = LedgerEntry._meta.db_table
    per_account = (
        f"FROM {accounts} a LEFT JOIN (SELECT account_id, SUM(amount) AS total "  # noqa: S608
        f"FROM {entries} GROUP BY account_id) t ON t.account_id = a.id"
    )
    per_movement = (
        f"FROM {movements} m LEFT JOIN (SELECT movement_id, COUNT(*) AS legs, SUM(amount) AS total, "  # noqa: S608
        f"SUM(CASE WHEN amount < 0 THEN 1 ELSE 0 END) AS outs, MIN(amount) AS low "
        f"FROM {entries} GROUP BY movement_id) t "
        "ON t.movement_id = m.id"
    )
    account_wrong = "a.balance <> COALESCE(t.total, 0)"
    # One leg out of -amount and legs into that make it up (one, or one per account of a batch credit).
    movement_wrong = "(t.legs IS NULL OR t.legs < 2 OR t.outs <> 1 OR t.total <> 0 OR t.low <> -m.amount)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {account_wrong} THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(t.total), 0) {per_account}"
        )
        accounts_checked, account_errors, entries_sum = (int(value) for value in cursor.fetchone())
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {movement_wrong} THEN 1 ELSE 0 END), 0) {per_movement}"
        )
        movements_checked, movement_errors = (int(value) for value in cursor.fetchone())
        # Entries of no movement cannot exist (foreign key), so the per-account sum is the grand total.
        mismatches: list[BalanceMismatch] = []
        if account_errors:
            cursor.execute(
                f"SELECT a.id, a.balance, COALESCE(t.total, 0) {per_account} "
                f"WHERE {account_wrong} ORDER BY a.id LIMIT {DETAIL_LIMIT}"
            )
            mismatches = [BalanceMismatch(int(a), int(b), int(c)) for a, b, c in cursor.fetchall()]
        unbalanced: list[int] = []
        if movement_errors:
            cursor.execute(
                f"SELECT m.id {per_movement} WHERE {movement_wrong} ORDER BY m.id LIMIT {DETAIL_LIMIT}"
            )
            unbalanced = [int(row[0]) for row in cursor.fetchall()]
    return LedgerCheckResult(
        accounts_checked=accounts_checked,
        balance_mismatch_count=account_errors,
        movements_checked=movements_checked,
        unbalanced_movement_count=movement_errors,
        entries_sum=entries_sum,
        balance_mismatches=mismatches,
        unbalanced_movement_ids=unbalanced,
    )


def entitlements_for_owner(*, owner) -> QuerySet[Entitlement]:
    """Every entitlement of ``owner`` (a user), in the order they fall due."""
    return Entitlement.objects.filter(owner_id=owner.pk).order_by("due_on", "number", "id")


def entitlement_first_training_incentive(*, owner) -> Entitlement | None:
    """Number 1 of the training incentive of ``owner``, or None when none is scheduled yet."""
    return (
        Entitlement.objects.filter(owner_id=owner.pk, kind=EntitlementKind.TRAINING_INCENTIVE, number=1)
        .order_by("id")
        .first()
    )


def payout_account_live(*, owner) -> PayoutAccount | None:
    """The person's active (or in review) payout account."""
    return (
        PayoutAccount.objects.filter(owner_id=owner.pk, status__in=["active", "review"])
        .select_related("partner")
        .first()
    )


def payout_account_refused(*, account: PayoutAccount | None) -> bool:
    """Whether the partner's answer to the newest finished payout into ``account`` was that the
    account itself is closed, blocked or unknown (so paying into it again would fail the same way)."""
    if account is None:
        return False
    last = (
        Payout.objects.filter(account_id=account.pk, status__in=[PayoutStatus.PAID, PayoutStatus.FAILED])
        .order_by("-updated_at", "-id")
        .values_list("status", "failure_code")
        .first()
    )
    return last is not None and last[0] == PayoutStatus.FAILED and last[1] in ACCOUNT_FAILURES


def payouts_latest_by_entitlement(*, entitlement_ids: list[int]) -> dict[int, Payout]:
    """The newest payout of each entitlement, one query."""
    latest: dict[int, Payout] = {}
    for payout in Payout.objects.filter(entitlement_id__in=entitlement_ids).order_by("id"):
        latest[payout.entitlement_id] = payout
    return latest
