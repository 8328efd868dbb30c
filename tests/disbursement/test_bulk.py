import pytest

from disbursement.enums import ProgrammeAccount
from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.selectors import ledger_accounts_without_movement, ledger_check
from disbursement.services import (
    BulkResult,
    IdempotencyConflict,
    LedgerError,
    ledger_accounts_open_credited_bulk,
    ledger_batch_key_prefix,
    ledger_bulk_key,
    ledger_credit,
    ledger_credit_bulk,
    ledger_debit,
    ledger_forfeit,
    ledger_forfeit_bulk,
    ledger_programme_account_open,
    ledger_reverse,
)
from tests.disbursement.factories import TrainingBalanceFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _balances(accounts) -> list[int]:
    found = dict(LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts]).values_list("pk", "balance"))
    return [found[a.pk] for a in accounts]


def _programme(code) -> int:
    return LedgerAccount.objects.get(code=code).balance


def _credit_wave(accounts, *, amount=1_000_000, prefix="cohorts.wave:7:credit"):
    return ledger_credit_bulk(
        accounts=LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts]),
        amount=amount,
        key_prefix=prefix,
        reference="cohorts.wave:7",
    )


def test_bulk_credit_moves_each_balance_once_with_its_own_pair_of_entries(django_user_model):
    officer = django_user_model.objects.create_user(email="petugas@example.id", password="x" * 12)
    accounts = TrainingBalanceFactory.create_batch(3)
    result = ledger_credit_bulk(
        accounts=LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts]),
        amount=1_000_000,
        key_prefix="cohorts.wave:7:credit",
        reference="cohorts.wave:7",
        actor=officer,
    )
    assert result == BulkResult(moved=3, skipped=0, total_amount=3_000_000)
    assert _balances(accounts) == [1_000_000, 1_000_000, 1_000_000]
    assert _programme(ProgrammeAccount.TRAINING_BUDGET) == -3_000_000
    budget = LedgerAccount.objects.get(code=ProgrammeAccount.TRAINING_BUDGET)
    for account in accounts:
        movement = LedgerMovement.objects.get(
            idempotency_key=ledger_bulk_key(key_prefix="cohorts.wave:7:credit", account_id=account.pk)
        )
        assert (movement.kind, movement.amount, movement.reference, movement.actor_id) == (
            "credit",
            1_000_000,
            "cohorts.wave:7",
            officer.pk,
        )
        assert sorted(movement.entries.values_list("account_id", "amount")) == sorted(
            [(budget.pk, -1_000_000), (account.pk, 1_000_000)]
        )
    assert ledger_check().ok


def test_bulk_credit_run_twice_moves_money_once_and_picks_up_only_new_accounts():
    accounts = TrainingBalanceFactory.create_batch(3)
    assert _credit_wave(accounts) == BulkResult(moved=3, skipped=0, total_amount=3_000_000)
    assert _credit_wave(accounts) == BulkResult(moved=0, skipped=3, total_amount=0)
    late = TrainingBalanceFactory()
    assert _credit_wave([*accounts, late]) == BulkResult(moved=1, skipped=3, total_amount=1_000_000)
    assert _balances([*accounts, late]) == [1_000_000] * 4
    assert (LedgerMovement.objects.count(), LedgerEntry.objects.count()) == (4, 8)
    assert _programme(ProgrammeAccount.TRAINING_BUDGET) == -4_000_000
    assert ledger_check().ok


def test_bulk_credit_skips_an_account_credited_one_by_one_with_the_same_key():
    first, second = TrainingBalanceFactory.create_batch(2)
    ledger_credit(
        account=first,
        amount=1_000_000,
        idempotency_key=ledger_bulk_key(key_prefix="cohorts.wave:7:credit", account_id=first.pk),
    )
    assert _credit_wave([first, second]) == BulkResult(moved=1, skipped=1, total_amount=1_000_000)
    assert _balances([first, second]) == [1_000_000, 1_000_000]


def test_bulk_credit_refuses_a_key_prefix_reused_for_another_amount_and_changes_nothing():
    accounts = TrainingBalanceFactory.create_batch(2)
    _credit_wave(accounts[:1])
    with pytest.raises(IdempotencyConflict):
        _credit_wave(accounts, amount=2_000_000)
    assert _balances(accounts) == [1_000_000, 0]
    assert LedgerMovement.objects.count() == 1
    assert ledger_check().ok


def test_bulk_credit_refuses_a_key_used_for_another_kind_of_movement():
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=1_000_000, idempotency_key="bulk")
    ledger_debit(
        account=account,
        amount=1_000_000,
        idempotency_key=ledger_bulk_key(key_prefix="cohorts.wave:7:credit", account_id=account.pk),
    )
    with pytest.raises(IdempotencyConflict):
        _credit_wave([account])
    assert _balances([account]) == [0]


def test_bulk_credit_never_touches_programme_accounts():
    account = TrainingBalanceFactory()
    payable = ledger_programme_account_open(code=ProgrammeAccount.PLATFORM_PAYABLE)
    result = ledger_credit_bulk(
        accounts=LedgerAccount.objects.filter(pk__in=[account.pk, payable.pk]),
        amount=1_000_000,
        key_prefix="w",
    )
    assert result == BulkResult(moved=1, skipped=0, total_amount=1_000_000)
    assert _programme(ProgrammeAccount.PLATFORM_PAYABLE) == 0


def test_bulk_forfeit_moves_every_remaining_balance_once():
    spent, partly, untouched, empty = TrainingBalanceFactory.create_batch(4)
    _credit_wave([spent, partly, untouched])
    ledger_debit(account=spent, amount=1_000_000, idempotency_key="buy:1")
    ledger_debit(account=partly, amount=600_000, idempotency_key="buy:2")
    everyone = LedgerAccount.objects.filter(pk__in=[spent.pk, partly.pk, untouched.pk, empty.pk])

    result = ledger_forfeit_bulk(
        accounts=everyone, key_prefix="cohorts.wave:7:end", reference="cohorts.wave:7"
    )
    assert result == BulkResult(moved=2, skipped=0, total_amount=1_400_000)
    assert _balances([spent, partly, untouched, empty]) == [0, 0, 0, 0]
    assert _programme(ProgrammeAccount.FORFEITED) == 1_400_000
    forfeits = LedgerMovement.objects.filter(kind="forfeit").order_by("amount")
    assert [(m.amount, m.reference) for m in forfeits] == [
        (400_000, "cohorts.wave:7"),
        (1_000_000, "cohorts.wave:7"),
    ]

    assert ledger_forfeit_bulk(accounts=everyone, key_prefix="cohorts.wave:7:end") == BulkResult(0, 0, 0)
    assert LedgerMovement.objects.filter(kind="forfeit").count() == 2
    assert ledger_check().ok


def test_bulk_forfeit_after_a_single_forfeit_with_the_same_key_moves_nothing_more():
    account = TrainingBalanceFactory()
    _credit_wave([account])
    key = ledger_bulk_key(key_prefix="cohorts.wave:7:end", account_id=account.pk)
    ledger_forfeit(account=account, idempotency_key=key)
    # New money arrives later; the same forfeit (same key) has already happened.
    ledger_credit(account=account, amount=50_000, idempotency_key="late-refund")
    result = ledger_forfeit_bulk(
        accounts=LedgerAccount.objects.filter(pk=account.pk), key_prefix="cohorts.wave:7:end"
    )
    assert result == BulkResult(moved=0, skipped=1, total_amount=0)
    assert _balances([account]) == [50_000]


def test_bulk_services_accept_only_ledger_account_querysets():
    with pytest.raises(TypeError):
        ledger_credit_bulk(accounts=LedgerMovement.objects.all(), amount=1, key_prefix="x")


def test_accounts_opened_already_credited_by_one_batch_credit_and_existing_accounts_are_left_alone():
    from prakerja.models import User

    newcomers = UserFactory.create_batch(3)
    existing = TrainingBalanceFactory()
    owners = User.objects.filter(pk__in=[u.pk for u in [*newcomers, existing.owner]])
    prefix = "cohorts.wave:7:balance"

    def open_credited():
        return ledger_accounts_open_credited_bulk(
            owners=owners, amount=1_000_000, key_prefix=prefix, reference="cohorts.wave:7"
        )

    assert open_credited() == BulkResult(moved=3, skipped=0, total_amount=3_000_000)
    opened = list(LedgerAccount.objects.filter(owner__in=newcomers).order_by("pk"))
    assert _balances(opened) == [1_000_000] * 3
    assert _balances([existing]) == [0]
    budget = LedgerAccount.objects.get(code=ProgrammeAccount.TRAINING_BUDGET)
    assert budget.balance == -3_000_000
    # One movement: the budget's leg out, one leg of 1,000,000 into each account opened.
    movement = LedgerMovement.objects.get()
    assert movement.idempotency_key == f"{ledger_batch_key_prefix(prefix)}{opened[0].pk}"
    assert (movement.kind, movement.amount, movement.reference) == ("credit", 3_000_000, "cohorts.wave:7")
    assert sorted(movement.entries.values_list("account_id", "amount")) == sorted(
        [(budget.pk, -3_000_000)] + [(account.pk, 1_000_000) for account in opened]
    )
    assert ledger_check().ok
    # Not reversible as a whole: one person's credit is corrected on its own.
    with pytest.raises(LedgerError, match="mengkredit 3 akun sekaligus"):
        ledger_reverse(movement=movement, idempotency_key="undo")

    # Again: nothing is opened or moved. A bulk credit with the same prefix then credits only the
    # account that existed before, whether or not it is told to leave out the credited ones.
    assert open_credited() == BulkResult(moved=0, skipped=0, total_amount=0)
    everyone = LedgerAccount.objects.filter(owner__in=owners)
    assert set(ledger_accounts_without_movement(accounts=everyone, key_prefix=prefix)) == {existing}
    credit = ledger_credit_bulk(
        accounts=everyone, amount=1_000_000, key_prefix=prefix, reference="cohorts.wave:7"
    )
    assert credit == BulkResult(moved=1, skipped=3, total_amount=1_000_000)
    assert not ledger_accounts_without_movement(accounts=everyone, key_prefix=prefix).exists()
    assert _balances([*opened, existing]) == [1_000_000] * 4
    assert _programme(ProgrammeAccount.TRAINING_BUDGET) == -4_000_000
    assert (LedgerMovement.objects.count(), LedgerEntry.objects.count()) == (2, 6)
    assert ledger_check().ok


def test_a_batch_credit_counts_only_for_its_own_prefix_even_with_like_wildcards_in_it():
    from prakerja.models import User

    users = UserFactory.create_batch(2)
    ledger_accounts_open_credited_bulk(
        owners=User.objects.filter(pk__in=[u.pk for u in users]), amount=500_000, key_prefix="w_1:balance"
    )
    accounts = LedgerAccount.objects.filter(owner__in=users)
    # "_" is a LIKE wildcard: "wx1:balance" must not be taken for "w_1:balance".
    assert accounts.count() == 2
    assert set(ledger_accounts_without_movement(accounts=accounts, key_prefix="wx1:balance")) == set(accounts)
    assert not ledger_accounts_without_movement(accounts=accounts, key_prefix="w_1:balance").exists()
    other = ledger_credit_bulk(accounts=accounts, amount=500_000, key_prefix="wx1:balance")
    assert other == BulkResult(moved=2, skipped=0, total_amount=1_000_000)
    same = ledger_credit_bulk(accounts=accounts, amount=500_000, key_prefix="w_1:balance")
    assert same == BulkResult(moved=0, skipped=2, total_amount=0)
    assert _balances(list(accounts)) == [1_000_000, 1_000_000]
    assert ledger_check().ok
