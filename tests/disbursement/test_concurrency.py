"""Races on PostgreSQL: threads with their own connections doing the same thing at once."""

import threading

import pytest
from django.db import connection

from disbursement.models import LedgerAccount, LedgerMovement
from disbursement.selectors import ledger_check
from disbursement.services import (
    BulkResult,
    InsufficientFunds,
    ledger_accounts_open_credited_bulk,
    ledger_credit,
    ledger_credit_bulk,
    ledger_debit,
    ledger_forfeit,
    ledger_forfeit_bulk,
    ledger_programme_account_open,
)
from tests.disbursement.factories import TrainingBalanceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls):
    """Run each call in its own thread, released together; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _funded(amount: int) -> LedgerAccount:
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=amount, idempotency_key=f"fund:{account.pk}")
    return account


def test_two_concurrent_debits_cannot_overdraw_one_wins():
    account = _funded(100_000)
    outcomes = _race(
        lambda: ledger_debit(account=account, amount=70_000, idempotency_key="buy:a"),
        lambda: ledger_debit(account=account, amount=70_000, idempotency_key="buy:b"),
    )
    winners = [o for o in outcomes if isinstance(o, LedgerMovement)]
    losers = [o for o in outcomes if isinstance(o, InsufficientFunds)]
    assert (len(winners), len(losers)) == (1, 1)
    assert LedgerAccount.objects.get(pk=account.pk).balance == 30_000
    assert LedgerMovement.objects.filter(kind="purchase").count() == 1
    assert ledger_check().ok


def test_many_concurrent_debits_spend_exactly_the_balance():
    account = _funded(100_000)
    outcomes = _race(
        *[
            (lambda i=i: ledger_debit(account=account, amount=30_000, idempotency_key=f"buy:{i}"))
            for i in range(5)
        ]
    )
    assert sum(isinstance(o, LedgerMovement) for o in outcomes) == 3
    assert sum(isinstance(o, InsufficientFunds) for o in outcomes) == 2
    assert LedgerAccount.objects.get(pk=account.pk).balance == 10_000
    assert ledger_check().ok


def test_concurrent_debit_and_forfeit_never_spend_the_same_rupiah_twice():
    account = _funded(100_000)
    outcomes = _race(
        lambda: ledger_debit(account=account, amount=60_000, idempotency_key="buy"),
        lambda: ledger_forfeit(account=account, idempotency_key="deadline"),
    )
    moved = sum(o.amount for o in outcomes if isinstance(o, LedgerMovement))
    assert moved + LedgerAccount.objects.get(pk=account.pk).balance == 100_000
    assert LedgerAccount.objects.get(pk=account.pk).balance in (0, 40_000)
    assert ledger_check().ok


def test_the_same_credit_sent_twice_at_once_is_recorded_once():
    account = TrainingBalanceFactory()
    outcomes = _race(
        lambda: ledger_credit(account=account, amount=1_000_000, idempotency_key="wave:1:credit"),
        lambda: ledger_credit(account=account, amount=1_000_000, idempotency_key="wave:1:credit"),
    )
    assert all(isinstance(o, LedgerMovement) for o in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert LedgerAccount.objects.get(pk=account.pk).balance == 1_000_000
    assert ledger_check().ok


def test_the_same_bulk_credit_run_twice_at_once_credits_each_account_once():
    accounts = TrainingBalanceFactory.create_batch(20)
    queryset = LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts])

    def announce():
        return ledger_credit_bulk(accounts=queryset, amount=1_000_000, key_prefix="wave:3:credit")

    outcomes = _race(announce, announce)
    assert sorted(outcomes, key=lambda r: r.moved) == [
        BulkResult(moved=0, skipped=20, total_amount=0),
        BulkResult(moved=20, skipped=0, total_amount=20_000_000),
    ]
    assert set(queryset.values_list("balance", flat=True)) == {1_000_000}
    assert ledger_check().ok


def test_bulk_forfeit_and_a_purchase_at_once_keep_every_balance_whole():
    accounts = [_funded(1_000_000) for _ in range(10)]
    buyer = accounts[0]
    outcomes = _race(
        lambda: ledger_forfeit_bulk(
            accounts=LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts]), key_prefix="end"
        ),
        lambda: ledger_debit(account=buyer, amount=600_000, idempotency_key="buy"),
    )
    forfeited, purchase = outcomes
    assert isinstance(forfeited, BulkResult), outcomes
    if isinstance(purchase, LedgerMovement):
        assert forfeited.total_amount == 9_400_000
    else:
        assert isinstance(purchase, InsufficientFunds)
        assert forfeited.total_amount == 10_000_000
    assert set(
        LedgerAccount.objects.filter(pk__in=[a.pk for a in accounts]).values_list("balance", flat=True)
    ) == {0}
    assert ledger_check().ok


def test_accounts_opened_credited_by_two_calls_at_once_run_side_by_side_and_add_up():
    """Calls that only open accounts share the bulk lock and lock the budget row last: both are inside
    their transaction at the same time (the barrier in ``within`` would time out if one waited for the
    other), and together they credit every account once."""
    from prakerja.models import User
    from tests.factories import UserFactory

    ledger_programme_account_open(code="training_budget")
    groups = [UserFactory.create_batch(3), UserFactory.create_batch(2)]
    both_inside = threading.Barrier(2)

    def open_credited(users):
        return ledger_accounts_open_credited_bulk(
            owners=User.objects.filter(pk__in=[u.pk for u in users]),
            amount=1_000_000,
            key_prefix="cohorts.wave:9:balance",
            reference="cohorts.wave:9",
            within=lambda: both_inside.wait(timeout=20),
        )

    outcomes = _race(lambda: open_credited(groups[0]), lambda: open_credited(groups[1]))
    assert outcomes == [
        BulkResult(moved=3, skipped=0, total_amount=3_000_000),
        BulkResult(moved=2, skipped=0, total_amount=2_000_000),
    ]
    owners = [u.pk for group in groups for u in group]
    assert (
        sorted(LedgerAccount.objects.filter(owner_id__in=owners).values_list("balance", flat=True))
        == [1_000_000] * 5
    )
    assert LedgerAccount.objects.get(code="training_budget").balance == -5_000_000
    # One batch credit a call: the budget's leg and one leg per account it opened.
    assert sorted(LedgerMovement.objects.values_list("amount", flat=True)) == [2_000_000, 3_000_000]
    assert ledger_check().ok
