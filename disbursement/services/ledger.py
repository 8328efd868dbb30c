"""Money services: every rupiah the programme moves goes through here.

Rules the functions keep:

- A movement moves a positive, whole-rupiah ``amount`` from one account to
  another and is written as two entries (-amount, +amount) plus the cached
  balances of both accounts, in one transaction. The one exception is the
  batch credit of ``ledger_accounts_open_credited_bulk``: one leg out of the
  source (-amount) and one leg into each account it opened, the legs into
  summing to ``amount``. Every movement has exactly one leg out.
- Accounts are locked before their balance is read (``SELECT ... FOR UPDATE``),
  always in the same order, programme accounts first, so two movements never
  deadlock and a balance is never spent twice.
- Every movement has an idempotency key. The same key again returns the first
  movement and moves nothing; the same key with a different account, amount or
  kind raises ``IdempotencyConflict``.
- The bulk services (``ledger_credit_bulk``, ``ledger_forfeit_bulk``) do the
  same for a whole queryset of accounts in a few set-based statements.

Callers name what caused a movement with ``reference`` ("app.model:id"); the
ledger never imports the apps that call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disbursement.enums import SOURCE_ACCOUNTS, AccountKind, MovementKind, ProgrammeAccount
from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from prakerja.audit import audit_log
from prakerja.db import tune_for_bulk
from prakerja.money import format_rupiah

if TYPE_CHECKING:
    from prakerja.models import User

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key that serialises bulk movements (they touch many rows in no set order).
BULK_LOCK_KEY = 5_052_001
BULK_STAGE_TABLE = "disbursement_bulk_stage"
ANALYZE_AFTER = 10_000  # movements written by one bulk call


class LedgerError(Exception):
    """A movement the ledger refuses. ``message`` is translated and safe to show to a person."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class InsufficientFunds(LedgerError):
    pass


class IdempotencyConflict(LedgerError):
    pass


class AlreadyReversed(LedgerError):
    pass


@dataclass(frozen=True)
class BulkResult:
    moved: int  # movements recorded by this call
    skipped: int  # accounts whose movement already existed (same idempotency key)
    total_amount: int  # rupiah moved by this call


# --- Accounts ---------------------------------------------------------------


def ledger_account_open(*, owner: User, kind: str = AccountKind.TRAINING_BALANCE) -> LedgerAccount:
    """The ``kind`` account of ``owner`` (a user), opened with a zero balance if it does not exist."""
    if kind == AccountKind.PROGRAMME:
        raise ValueError("programme accounts are opened with ledger_programme_account_open")
    account, _created = LedgerAccount.objects.get_or_create(owner=owner, kind=kind)
    return account


def ledger_accounts_open_bulk(*, owners: QuerySet, kind: str = AccountKind.TRAINING_BALANCE) -> int:
    """Open a ``kind`` account for every user in ``owners`` that has none; one INSERT ... SELECT.

    Returns the number of accounts opened. Safe to repeat.
    """
    if kind == AccountKind.PROGRAMME:
        raise ValueError("programme accounts are opened with ledger_programme_account_open")
    owner_sql, owner_params = _subquery(owners)
    table = LedgerAccount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, owner_id, code, name, allow_negative, balance, created_at) "  # noqa: S608
            f"SELECT %s, o.pk_, NULL, '', %s, 0, %s FROM ({owner_sql}) o WHERE true "
            "ON CONFLICT DO NOTHING",
            [kind, False, _db_now(), *owner_params],
        )
        return cursor.rowcount


def ledger_accounts_open_credited_bulk(
    *,
    owners: QuerySet,
    amount: int,
    key_prefix: str,
    reference: str = "",
    actor: User | None = None,
    source: LedgerAccount | None = None,
    kind: str = AccountKind.TRAINING_BALANCE,
    within: Callable[[], object] | None = None,
    analyze: bool = True,
) -> BulkResult:
    """Open a ``kind`` account for every user in ``owners`` that has none, each credited with ``amount``.

    The credit is one *batch* movement from ``source`` (default: the training budget) of ``amount``
    times the accounts opened: one leg out of the source and one leg of ``amount`` into each new
    account, under the key ``ledger_batch_key_prefix(key_prefix)`` + the first new account's id.
    Each account is written once, already holding its balance (on PostgreSQL: one statement for the
    accounts, the movement and its legs). A batch is not reversed as a whole (``ledger_reverse``
    refuses it); one person's credit is corrected with a movement of its own, e.g. a forfeit.

    Accounts that already existed are left alone: credit those with ``ledger_credit_bulk`` under the
    same ``key_prefix``, which skips the accounts a batch under that prefix credited (so does
    ``disbursement.selectors.ledger_accounts_without_movement``). Safe to repeat: a second call opens
    nothing and moves nothing. ``BulkResult.moved`` counts the accounts credited.

    Several calls may run at once on other connections (e.g. a wave's chunks): they touch only
    the accounts they open and, last, the source's balance, so they wait for each other only for
    that one row, from its update to their commit. (Other bulk movements, which touch existing
    accounts in no set order, still run alone.) ``within()``, when given, runs in the same
    transaction after the accounts are written and before the source row is locked, so work
    that belongs with the new accounts (e.g. the rows that point at them) does not hold it up;
    callers that run chunks side by side also make their foreign keys ``IMMEDIATE`` so that the
    checks are not left for the commit. ``analyze=False`` leaves the statistics to the caller
    (two ANALYZEs of one table wait for each other).
    """
    if kind == AccountKind.PROGRAMME:
        raise ValueError("programme accounts are opened with ledger_programme_account_open")
    _check_amount(amount)
    source = source or ledger_programme_account_open(code=ProgrammeAccount.TRAINING_BUDGET)
    owner_sql, owner_params = _subquery(owners)
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            # Shared: calls that only open accounts may run side by side; ledger_credit_bulk and
            # ledger_forfeit_bulk take it exclusively.
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [BULK_LOCK_KEY])
            tune_for_bulk(cursor, work_mem="128MB")
        write = _open_credited_postgres if postgres else _open_credited_generic
        opened = write(
            cursor,
            owner_sql=owner_sql,
            owner_params=owner_params,
            kind=kind,
            amount=amount,
            key_prefix=key_prefix,
            reference=reference,
            actor_id=actor_id,
            source_id=source.pk,
        )
        if within is not None:
            within()
        if opened:
            # The source's row is locked only now, for the rest of the transaction.
            cursor.execute(
                f"UPDATE {LedgerAccount._meta.db_table} SET balance = balance - %s WHERE id = %s",  # noqa: S608
                [amount * opened, source.pk],
            )
        if postgres and analyze and opened >= ANALYZE_AFTER:
            cursor.execute(
                f"ANALYZE {LedgerAccount._meta.db_table}, {LedgerMovement._meta.db_table}, "
                f"{LedgerEntry._meta.db_table}"
            )
    logger.info(
        "ledger accounts opened and credited %s: %d, %s", key_prefix, opened, format_rupiah(opened * amount)
    )
    return BulkResult(moved=opened, skipped=0, total_amount=opened * amount)


def _open_credited_postgres(
    cursor, *, owner_sql, owner_params, kind, amount, key_prefix, reference, actor_id, source_id
) -> int:
    """The accounts, their batch movement and its legs in one statement; the source's balance is the caller's.

    Per new account: the account row and one entry (no movement of its own, no leg on the source).
    """
    accounts = LedgerAccount._meta.db_table
    movements = LedgerMovement._meta.db_table
    entries = LedgerEntry._meta.db_table
    cursor.execute(
        f"""
        WITH opened AS MATERIALIZED (
            INSERT INTO {accounts} (kind, owner_id, code, name, allow_negative, balance, created_at)
            SELECT %s, o.pk_, NULL, '', false, %s, %s FROM ({owner_sql}) o WHERE true
            ON CONFLICT DO NOTHING
            RETURNING id
        ), moved AS (
            INSERT INTO {movements} (created_at, kind, amount, idempotency_key, reference, actor_id, memo)
            SELECT %s, %s, %s * COUNT(*), CAST(%s AS varchar(200)) || CAST(MIN(id) AS varchar(20)), %s, %s, ''
            FROM opened HAVING COUNT(*) > 0
            RETURNING id, amount
        ), legs AS (
            INSERT INTO {entries} (movement_id, account_id, amount)
            SELECT m.id, o.id, %s FROM moved m CROSS JOIN opened o
            UNION ALL
            SELECT id, %s, -amount FROM moved
        )
        SELECT COUNT(*) FROM opened
        """,  # noqa: S608 - identifiers from model metadata, values bound
        [
            kind,
            amount,
            _db_now(),
            *owner_params,
            _db_now(),
            MovementKind.CREDIT,
            amount,
            ledger_batch_key_prefix(key_prefix),
            reference,
            actor_id,
            amount,
            source_id,
        ],  # fmt: skip
    )
    return int(cursor.fetchone()[0])


def _open_credited_generic(
    cursor, *, owner_sql, owner_params, kind, amount, key_prefix, reference, actor_id, source_id
) -> int:
    """The same in portable statements (SQLite): the owners without an account are staged first."""
    accounts = LedgerAccount._meta.db_table
    movements = LedgerMovement._meta.db_table
    entries = LedgerEntry._meta.db_table
    stage = BULK_STAGE_TABLE
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(
        f"CREATE TEMP TABLE {stage} AS SELECT DISTINCT o.pk_ AS owner_id FROM ({owner_sql}) o "  # noqa: S608
        f"WHERE NOT EXISTS (SELECT 1 FROM {accounts} a WHERE a.owner_id = o.pk_ AND a.kind = %s)",
        [*owner_params, kind],
    )
    cursor.execute(
        f"INSERT INTO {accounts} (kind, owner_id, code, name, allow_negative, balance, created_at) "  # noqa: S608
        f"SELECT %s, s.owner_id, NULL, '', %s, %s, %s FROM {stage} s",
        [kind, False, amount, _db_now()],
    )
    opened = cursor.rowcount
    if opened:
        new_accounts = f"FROM {stage} s JOIN {accounts} a ON a.owner_id = s.owner_id AND a.kind = %s"
        cursor.execute(f"SELECT MIN(a.id) {new_accounts}", [kind])  # noqa: S608
        key = f"{ledger_batch_key_prefix(key_prefix)}{cursor.fetchone()[0]}"
        cursor.execute(
            f"INSERT INTO {movements} (created_at, kind, amount, idempotency_key, reference, actor_id, memo) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, '')",
            [_db_now(), MovementKind.CREDIT, amount * opened, key, reference, actor_id],
        )
        cursor.execute(f"SELECT id FROM {movements} WHERE idempotency_key = %s", [key])  # noqa: S608
        movement_id = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {entries} (movement_id, account_id, amount) "  # noqa: S608
            f"SELECT %s, a.id, %s {new_accounts} UNION ALL SELECT %s, %s, %s",
            [movement_id, amount, kind, movement_id, source_id, -amount * opened],
        )
    cursor.execute(f"DROP TABLE {stage}")
    return opened


def ledger_programme_account_open(
    *, code: str, name: str = "", allow_negative: bool | None = None
) -> LedgerAccount:
    """The programme account ``code`` (see ``ProgrammeAccount``), opened if it does not exist.

    Budgets (``SOURCE_ACCOUNTS``) may go negative; other apps may open their own
    codes, e.g. ``platform_payable:tokopedia``.
    """
    account, _created = LedgerAccount.objects.get_or_create(
        code=code,
        defaults={
            "kind": AccountKind.PROGRAMME,
            "name": name,
            "allow_negative": code in SOURCE_ACCOUNTS if allow_negative is None else allow_negative,
        },
    )
    return account


# --- Single movements ---------------------------------------------------------


def ledger_transfer(
    *,
    source: LedgerAccount,
    destination: LedgerAccount,
    amount: int,
    kind: str,
    idempotency_key: str,
    reference: str = "",
    actor: User | None = None,
    memo: str = "",
) -> LedgerMovement:
    """Move ``amount`` from ``source`` to ``destination``; refuses to overdraw ``source``."""
    _check_amount(amount)
    movement = _move(
        source_id=source.pk,
        destination_id=destination.pk,
        amount=amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        memo=memo,
    )
    assert movement is not None
    return movement


def ledger_credit(
    *,
    account: LedgerAccount,
    amount: int,
    idempotency_key: str,
    reference: str = "",
    actor: User | None = None,
    source: LedgerAccount | None = None,
    kind: str = MovementKind.CREDIT,
    memo: str = "",
) -> LedgerMovement:
    """Credit ``account`` from ``source`` (default: the training budget)."""
    source = source or ledger_programme_account_open(code=ProgrammeAccount.TRAINING_BUDGET)
    return ledger_transfer(
        source=source,
        destination=account,
        amount=amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        memo=memo,
    )


def ledger_debit(
    *,
    account: LedgerAccount,
    amount: int,
    idempotency_key: str,
    reference: str = "",
    actor: User | None = None,
    destination: LedgerAccount | None = None,
    kind: str = MovementKind.PURCHASE,
    memo: str = "",
) -> LedgerMovement:
    """Take ``amount`` from ``account`` to ``destination`` (default: purchases payable to platforms).

    Raises ``InsufficientFunds`` when the balance is too small, also when two
    debits race for the same balance: the account row is locked first.
    """
    destination = destination or ledger_programme_account_open(code=ProgrammeAccount.PLATFORM_PAYABLE)
    return ledger_transfer(
        source=account,
        destination=destination,
        amount=amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        memo=memo,
    )


def ledger_forfeit(
    *,
    account: LedgerAccount,
    idempotency_key: str,
    reference: str = "",
    actor: User | None = None,
    memo: str = "",
) -> LedgerMovement | None:
    """Move the whole remaining balance of ``account`` to the forfeited-balances account.

    Returns the movement, or None when the balance was zero (nothing is recorded).
    """
    forfeits = ledger_programme_account_open(code=ProgrammeAccount.FORFEITED)
    return _move(
        source_id=account.pk,
        destination_id=forfeits.pk,
        amount=None,
        kind=MovementKind.FORFEIT,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        memo=memo,
    )


def ledger_reverse(
    *,
    movement: LedgerMovement,
    idempotency_key: str,
    reference: str = "",
    actor: User | None = None,
    memo: str = "",
    kind: str = MovementKind.REVERSAL,
) -> LedgerMovement:
    """Undo ``movement`` with a new movement in the opposite direction (a refund or a correction).

    A movement is reversed at most once, and a reversal is not itself reversed.
    Refused with ``InsufficientFunds`` when the money has been spent since.
    Recorded in the audit log with ``actor`` (None for the system).
    """
    if movement.reverses_id is not None:
        raise LedgerError(_("This movement is itself a reversal and cannot be reversed."))
    entries = list(movement.entries.order_by("id")[:3])  # a batch credit has one leg per account
    if len(entries) != 2:
        raise LedgerError(
            _(
                "This movement credited %(count)s accounts at once and cannot be reversed as a whole; "
                "correct the account concerned with a movement of its own."
            )
            % {"count": movement.entries.filter(amount__gt=0).count()}
        )
    legs = {entry.amount > 0: entry.account_id for entry in entries}
    reversal = _move(
        source_id=legs[True],
        destination_id=legs[False],
        amount=movement.amount,
        kind=kind,
        idempotency_key=idempotency_key,
        reference=reference,
        actor=actor,
        memo=memo,
        reverses=movement,
    )
    assert reversal is not None
    return reversal


# --- Bulk movements -----------------------------------------------------------


def ledger_bulk_key(*, key_prefix: str, account_id: int) -> str:
    """The idempotency key the bulk services give the movement of one account."""
    return f"{key_prefix}:{account_id}"


def ledger_batch_key_prefix(key_prefix: str) -> str:
    """What the keys of the batch credits of ``ledger_accounts_open_credited_bulk`` under ``key_prefix``
    start with (the first account's id follows)."""
    return f"{key_prefix}:open:"


def ledger_batch_credited_sql(*, account_column: str, key_prefix: str) -> tuple[str, list]:
    """SQL (and its parameters) true when the account in ``account_column`` received a leg of a batch
    credit under ``key_prefix``; through the account's entries (indexed), so cheap per account."""
    pattern = ledger_batch_key_prefix(key_prefix)
    pattern = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return (
        f"EXISTS (SELECT 1 FROM {LedgerEntry._meta.db_table} be "  # noqa: S608
        f"JOIN {LedgerMovement._meta.db_table} bm ON bm.id = be.movement_id "
        f"WHERE be.account_id = {account_column} AND be.amount > 0 "
        "AND bm.idempotency_key LIKE %s ESCAPE '\\')",
        [pattern],
    )


def ledger_credit_bulk(
    *,
    accounts: QuerySet,
    amount: int,
    key_prefix: str,
    reference: str = "",
    actor: User | None = None,
    source: LedgerAccount | None = None,
    kind: str = MovementKind.CREDIT,
) -> BulkResult:
    """Credit ``amount`` to every personal account in ``accounts`` (a LedgerAccount queryset).

    Each account gets its own movement with the key ``<key_prefix>:<account id>``,
    so running it again (or after a crash) credits only the accounts not
    credited yet. Set-based: the accounts never leave the database.
    """
    _check_amount(amount)
    source = source or ledger_programme_account_open(code=ProgrammeAccount.TRAINING_BUDGET)
    return _bulk_move(
        accounts=accounts,
        counter=source,
        incoming=True,
        amount=amount,
        kind=kind,
        key_prefix=key_prefix,
        reference=reference,
        actor=actor,
    )


def ledger_forfeit_bulk(
    *, accounts: QuerySet, key_prefix: str, reference: str = "", actor: User | None = None
) -> BulkResult:
    """Forfeit the whole remaining balance of every personal account in ``accounts``.

    Accounts with a zero balance are left alone. Idempotent per account and
    ``key_prefix`` like ``ledger_credit_bulk``.
    """
    forfeits = ledger_programme_account_open(code=ProgrammeAccount.FORFEITED)
    return _bulk_move(
        accounts=accounts,
        counter=forfeits,
        incoming=False,
        amount=None,
        kind=MovementKind.FORFEIT,
        key_prefix=key_prefix,
        reference=reference,
        actor=actor,
    )


def ledger_transfer_rows_bulk(
    *,
    rows_sql: str,
    rows_params: tuple | list = (),
    counter: LedgerAccount,
    incoming: bool,
    kind: str,
    reference: str = "",
    actor: User | None = None,
) -> BulkResult:
    """Move per-row amounts between ``counter`` and personal accounts, set-based.

    ``rows_sql`` selects ``(account_id, amount, idempotency_key)``, one row per movement (e.g. one per
    entitlement falling due). incoming: from ``counter`` to each account; otherwise from each account to
    ``counter`` (an account may not go below zero: the statement fails as a whole). Known keys are skipped,
    so a repeat (or a run after a crash) moves only what has not moved yet.
    """

    def stage(cursor) -> int:
        cursor.execute(f"DROP TABLE IF EXISTS {BULK_STAGE_TABLE}")
        cursor.execute(
            f"CREATE TEMP TABLE {BULK_STAGE_TABLE} "
            "(account_id bigint NOT NULL, amount bigint NOT NULL, idempotency_key varchar(200) NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {BULK_STAGE_TABLE} (account_id, amount, idempotency_key) {rows_sql}",  # noqa: S608
            list(rows_params),
        )
        staged = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {BULK_STAGE_TABLE}")
        return staged

    return _bulk_move(
        accounts=None,
        counter=counter,
        incoming=incoming,
        amount=-1,  # per row; any value but None makes the repeat check compare amounts
        kind=kind,
        key_prefix="rows",
        reference=reference,
        actor=actor,
        stage=stage,
    )


# --- Internals ----------------------------------------------------------------


def _check_amount(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah amounts are integers, got {type(amount).__name__}")
    if amount <= 0:
        raise ValueError("a movement moves a positive amount")


def _db_now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _subquery(queryset: QuerySet) -> tuple[str, tuple]:
    """The SQL of ``queryset`` selecting only its primary key, as a column named ``pk_``."""
    ids = queryset.order_by().values(pk_=F("pk"))
    sql, params = ids.query.get_compiler(using=queryset.db).as_sql()
    return sql, tuple(params)


def _lock_accounts(account_ids: list[int]) -> dict[int, LedgerAccount]:
    """Lock the accounts in the one global order: programme accounts first, then by owner and id."""
    accounts = (
        LedgerAccount.objects.select_for_update()
        .filter(pk__in=account_ids)
        .order_by(F("owner_id").asc(nulls_first=True), "pk")
    )
    return {account.pk: account for account in accounts}


def _existing(
    *,
    idempotency_key: str,
    source_id: int,
    destination_id: int,
    amount: int | None,
    kind: str,
    reverses: LedgerMovement | None,
) -> LedgerMovement | None:
    """The movement already recorded under ``idempotency_key``, checked to be the same request."""
    movement = LedgerMovement.objects.filter(idempotency_key=idempotency_key).first()
    if movement is None:
        return None
    legs = dict(LedgerEntry.objects.filter(movement=movement).values_list("account_id", "amount"))
    same = (
        movement.kind == kind
        and legs.get(source_id) == -movement.amount
        and legs.get(destination_id) == movement.amount
        and (amount is None or amount == movement.amount)
        and movement.reverses_id == (reverses.pk if reverses else None)
    )
    if not same:
        raise IdempotencyConflict(
            _("The idempotency key %(key)s was already used for a different movement.")
            % {"key": idempotency_key}
        )
    return movement


def _move(
    *,
    source_id: int,
    destination_id: int,
    amount: int | None,
    kind: str,
    idempotency_key: str,
    reference: str,
    actor: User | None,
    memo: str,
    reverses: LedgerMovement | None = None,
) -> LedgerMovement | None:
    """Record one movement; ``amount=None`` moves the whole balance of the source (None if it is zero)."""
    if source_id == destination_id:
        raise ValueError("a movement needs two different accounts")
    request = {
        "idempotency_key": idempotency_key,
        "source_id": source_id,
        "destination_id": destination_id,
        "amount": amount,
        "kind": kind,
        "reverses": reverses,
    }
    existing = _existing(**request)
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = _lock_accounts([source_id, destination_id])
        # A concurrent call with the same key may have committed while we waited for the lock.
        existing = _existing(**request)
        if existing is not None:
            return existing
        source = locked[source_id]
        if amount is None:
            amount = source.balance
            if amount <= 0:
                return None
        if reverses is not None and LedgerMovement.objects.filter(reverses=reverses).exists():
            raise AlreadyReversed(_("This movement has already been reversed."))
        if not source.allow_negative and source.balance < amount:
            raise InsufficientFunds(
                _("The balance of %(balance)s is not enough for %(amount)s.")
                % {"balance": format_rupiah(source.balance), "amount": format_rupiah(amount)}
            )
        try:
            with transaction.atomic():
                movement = LedgerMovement.objects.create(
                    kind=kind,
                    amount=amount,
                    idempotency_key=idempotency_key,
                    reference=reference,
                    actor=actor if getattr(actor, "pk", None) else None,
                    memo=memo,
                    reverses=reverses,
                )
        except IntegrityError:
            # The same key under other accounts, committed by a concurrent call.
            existing = _existing(**request)
            if existing is None:
                raise
            return existing
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(movement=movement, account_id=source_id, amount=-amount),
                LedgerEntry(movement=movement, account_id=destination_id, amount=amount),
            ]
        )
        LedgerAccount.objects.filter(pk=source_id).update(balance=F("balance") - amount)
        LedgerAccount.objects.filter(pk=destination_id).update(balance=F("balance") + amount)
        if reverses is not None:
            audit_log(
                actor=actor,
                action="disbursement.movement_reverse",
                obj=reverses,
                data={"reversal_id": movement.pk, "amount": amount, "kind": kind, "memo": memo},
            )
    return movement


def _bulk_move(
    *,
    accounts: QuerySet,
    counter: LedgerAccount,
    incoming: bool,
    amount: int | None,
    kind: str,
    key_prefix: str,
    reference: str,
    actor: User | None,
    stage=None,
) -> BulkResult:
    """Move money between ``counter`` and each personal account in ``accounts``, set-based.

    incoming: ``amount`` from ``counter`` to each account; otherwise each
    account's whole balance to ``counter``. ``stage(cursor)``, when given, fills
    the stage table itself (per-row amounts and keys) instead of ``accounts``.
    """
    if stage is None and accounts.model is not LedgerAccount:
        raise TypeError("accounts must be a LedgerAccount queryset")
    sign = 1 if incoming else -1
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            # One bulk movement at a time; then the counter account, like every single movement does.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BULK_LOCK_KEY])
            tune_for_bulk(cursor, work_mem="128MB")
        _lock_accounts([counter.pk])
        if stage is not None:
            staged = stage(cursor)
        else:
            staged = _bulk_stage(
                cursor, accounts=accounts, amount=amount, key_prefix=key_prefix, lock=postgres
            )
            if incoming and amount is not None:
                # Accounts a batch under the same prefix credited count as done (skipped) too.
                credited, params = ledger_batch_credited_sql(
                    account_column=f"{BULK_STAGE_TABLE}.account_id", key_prefix=key_prefix
                )
                cursor.execute(f"DELETE FROM {BULK_STAGE_TABLE} WHERE {credited}", params)  # noqa: S608
        if not postgres:
            _bulk_check_repeats(cursor, kind=kind, incoming=incoming, counter_id=counter.pk, fixed=amount)
        write = _bulk_write_postgres if postgres else _bulk_write_generic
        moved, total = write(
            cursor,
            kind=kind,
            sign=sign,
            counter_id=counter.pk,
            reference=reference,
            actor_id=actor_id,
        )
        if postgres and moved < staged:
            _bulk_check_repeats(cursor, kind=kind, incoming=incoming, counter_id=counter.pk, fixed=amount)
        if postgres and moved >= ANALYZE_AFTER:
            # Fresh statistics, so that the next statements on these tables plan for their real size.
            cursor.execute(f"ANALYZE {LedgerMovement._meta.db_table}, {LedgerEntry._meta.db_table}")
        cursor.execute(f"DROP TABLE {BULK_STAGE_TABLE}")
    logger.info(
        "ledger bulk %s %s: %d moved, %d skipped, %s",
        kind,
        key_prefix,
        moved,
        staged - moved,
        format_rupiah(total),
    )
    return BulkResult(moved=moved, skipped=staged - moved, total_amount=total)


def _bulk_stage(cursor, *, accounts: QuerySet, amount: int | None, key_prefix: str, lock: bool) -> int:
    """Fill the stage table with (account, amount, idempotency key) for every account to move."""
    account_sql, account_params = _subquery(accounts)
    table = LedgerAccount._meta.db_table
    cursor.execute(f"DROP TABLE IF EXISTS {BULK_STAGE_TABLE}")
    cursor.execute(
        f"CREATE TEMP TABLE {BULK_STAGE_TABLE} "
        "(account_id bigint NOT NULL, amount bigint NOT NULL, idempotency_key varchar(200) NOT NULL)"
    )
    if amount is None:
        # Whole balances: lock the rows so that the balance read is the one we move.
        amount_sql, amount_params, extra = "a.balance", [], "AND a.balance > 0"
        locking = "FOR UPDATE OF a" if lock else ""
    else:
        amount_sql, amount_params, extra, locking = "%s", [amount], "", ""
    cursor.execute(
        f"INSERT INTO {BULK_STAGE_TABLE} (account_id, amount, idempotency_key) "  # noqa: S608
        f"SELECT a.id, {amount_sql}, CAST(%s AS varchar(200)) || CAST(a.id AS varchar(20)) "
        f"FROM {table} a WHERE a.owner_id IS NOT NULL {extra} AND a.id IN ({account_sql}) {locking}",
        [*amount_params, f"{key_prefix}:", *account_params],
    )
    staged = cursor.rowcount
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {BULK_STAGE_TABLE}")
    return staged


def _bulk_check_repeats(cursor, *, kind: str, incoming: bool, counter_id: int, fixed: int | None) -> None:
    """Raise if a staged key already names a movement that is not this one (other account, amount, kind).

    Plain joins and no LIMIT: with 800,000 repeats the planner must pick hash
    joins, not a per-row probe of the counter account's entries.
    """
    movements = LedgerMovement._meta.db_table
    entries = LedgerEntry._meta.db_table
    account_leg, counter_leg = (
        ("e.amount > 0", "e.amount < 0") if incoming else ("e.amount < 0", "e.amount > 0")
    )
    amount_differs = "OR m.amount <> s.amount" if fixed is not None else ""
    cursor.execute(
        f"SELECT COUNT(*), MIN(conflict) FROM (SELECT s.idempotency_key AS conflict "  # noqa: S608
        f"FROM {BULK_STAGE_TABLE} s JOIN {movements} m ON m.idempotency_key = s.idempotency_key "
        f"LEFT JOIN {entries} e ON e.movement_id = m.id "
        "GROUP BY s.idempotency_key, s.account_id, s.amount, m.kind, m.amount "
        f"HAVING m.kind <> %s {amount_differs} OR COUNT(e.id) <> 2 "
        f"OR COALESCE(MAX(CASE WHEN {account_leg} THEN e.account_id END), 0) <> s.account_id "
        f"OR COALESCE(MAX(CASE WHEN {counter_leg} THEN e.account_id END), 0) <> %s) conflicts",
        [kind, counter_id],
    )
    conflicts, first = cursor.fetchone()
    if conflicts:
        raise IdempotencyConflict(
            _("The idempotency key %(key)s was already used for a different movement.") % {"key": first}
        )


def _bulk_write_postgres(cursor, *, kind, sign, counter_id, reference, actor_id) -> tuple[int, int]:
    """One statement: movements (skipping known keys), both entries of each, every balance."""
    movements = LedgerMovement._meta.db_table
    entries = LedgerEntry._meta.db_table
    accounts = LedgerAccount._meta.db_table
    cursor.execute(
        f"""
        WITH moved AS (
            INSERT INTO {movements} (created_at, kind, amount, idempotency_key, reference, actor_id, memo)
            SELECT %(now)s, %(kind)s, s.amount, s.idempotency_key, %(reference)s, %(actor)s, ''
            FROM {BULK_STAGE_TABLE} s
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, idempotency_key, amount
        ), own AS (
            SELECT m.id AS movement_id, s.account_id, m.amount
            FROM moved m JOIN {BULK_STAGE_TABLE} s ON s.idempotency_key = m.idempotency_key
        ), legs AS (
            INSERT INTO {entries} (movement_id, account_id, amount)
            SELECT movement_id, account_id, %(sign)s * amount FROM own
            UNION ALL
            SELECT id, %(counter)s, -%(sign)s * amount FROM moved
        ), people AS (
            UPDATE {accounts} a SET balance = a.balance + %(sign)s * per.amount
            FROM (SELECT account_id, SUM(amount) AS amount FROM own GROUP BY account_id) per
            WHERE a.id = per.account_id
        ), total AS (
            SELECT COUNT(*) AS moved, COALESCE(SUM(amount), 0) AS amount FROM moved
        ), programme AS (
            UPDATE {accounts} a SET balance = a.balance - %(sign)s * total.amount
            FROM total WHERE a.id = %(counter)s
        )
        SELECT moved, amount FROM total
        """,  # noqa: S608
        {
            "now": _db_now(),
            "kind": kind,
            "reference": reference,
            "actor": actor_id,
            "sign": sign,
            "counter": counter_id,
        },
    )
    moved, total = cursor.fetchone()
    return int(moved), int(total)


def _bulk_write_generic(cursor, *, kind, sign, counter_id, reference, actor_id) -> tuple[int, int]:
    """The same in portable statements (SQLite): drop known keys, then insert and update."""
    movements = LedgerMovement._meta.db_table
    entries = LedgerEntry._meta.db_table
    accounts = LedgerAccount._meta.db_table
    stage = BULK_STAGE_TABLE
    cursor.execute(
        f"DELETE FROM {stage} WHERE EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {movements} m WHERE m.idempotency_key = {stage}.idempotency_key)"
    )
    cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM {stage}")  # noqa: S608
    moved, total = cursor.fetchone()
    if not moved:
        return 0, 0
    cursor.execute(
        f"INSERT INTO {movements} (created_at, kind, amount, idempotency_key, reference, actor_id, memo) "  # noqa: S608
        f"SELECT %s, %s, s.amount, s.idempotency_key, %s, %s, '' FROM {stage} s",
        [_db_now(), kind, reference, actor_id],
    )
    joined = f"FROM {stage} s JOIN {movements} m ON m.idempotency_key = s.idempotency_key"
    cursor.execute(
        f"INSERT INTO {entries} (movement_id, account_id, amount) "  # noqa: S608
        f"SELECT m.id, s.account_id, %s * s.amount {joined} "
        f"UNION ALL SELECT m.id, %s, -%s * s.amount {joined}",
        [sign, counter_id, sign],
    )
    cursor.execute(
        f"UPDATE {accounts} SET balance = balance + %s * "  # noqa: S608
        f"(SELECT SUM(s.amount) FROM {stage} s WHERE s.account_id = {accounts}.id) "
        f"WHERE id IN (SELECT account_id FROM {stage})",
        [sign],
    )
    cursor.execute(
        f"UPDATE {accounts} SET balance = balance - %s WHERE id = %s",  # noqa: S608
        [sign * total, counter_id],
    )
    return int(moved), int(total)
