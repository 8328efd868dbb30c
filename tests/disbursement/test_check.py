import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.services import ledger_credit, ledger_debit
from disbursement.tasks import ledger_check_task
from tests.disbursement.factories import TrainingBalanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    first, second = TrainingBalanceFactory.create_batch(2)
    ledger_credit(account=first, amount=1_000_000, idempotency_key="c1")
    ledger_credit(account=second, amount=1_000_000, idempotency_key="c2")
    ledger_debit(account=first, amount=250_000, idempotency_key="d1")
    return first, second


def _run() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger_check", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ledger_check_reports_accounts_checked_and_no_mismatch(ledger):
    out, err = _run()
    # Two training balances, the training budget and the platform payable account.
    assert out.splitlines() == [
        "accounts checked: 4",
        "balance mismatches: 0",
        "movements checked: 3",
        "unbalanced movements: 0",
        "sum of all entries: 0",
        "ledger OK",
    ]
    assert err == ""


def test_ledger_check_finds_a_planted_balance_mismatch_and_exits_non_zero(ledger):
    first, _second = ledger
    LedgerAccount.objects.filter(pk=first.pk).update(balance=F("balance") + 1)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("ledger_check", stdout=out, stderr=err)
    assert error.value.returncode == 1
    assert "balance mismatches: 1" in out.getvalue().splitlines()
    assert err.getvalue() == f"account {first.pk}: balance column 750001, sum of entries 750000\n"


def test_ledger_check_finds_a_movement_that_is_not_a_pair(ledger):
    first, _second = ledger
    # Append a third, lone entry to a movement and keep the cached balance in step with it.
    movement = LedgerMovement.objects.get(idempotency_key="d1")
    LedgerEntry.objects.create(movement=movement, account=first, amount=-5)
    LedgerAccount.objects.filter(pk=first.pk).update(balance=F("balance") - 5)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[:5] == [
        "accounts checked: 4",
        "balance mismatches: 0",
        "movements checked: 3",
        "unbalanced movements: 1",
        "sum of all entries: -5",
    ]
    assert (
        err.getvalue()
        == f"movement {movement.pk}: entries are not one leg of -amount and legs into summing to +amount\n"
    )


def test_ledger_check_finds_a_movement_without_entries(ledger):
    lone = LedgerMovement.objects.create(kind="credit", amount=10, idempotency_key="lone")
    with pytest.raises(CommandError):
        _run()
    assert LedgerMovement.objects.filter(pk=lone.pk).exists()


def test_nightly_task_logs_an_error_when_the_ledger_does_not_add_up(ledger, caplog):
    assert ledger_check_task.delay().get() is True
    LedgerAccount.objects.filter(pk=ledger[1].pk).update(balance=0)
    with caplog.at_level(logging.ERROR, logger="disbursement.tasks"):
        assert ledger_check_task.delay().get() is False
    assert "ledger check FAILED: 1 balance mismatches" in caplog.text


def test_nightly_check_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["disbursement-ledger-check"]
    assert entry["task"] == "disbursement.ledger_check"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {17})


def _batch_credit(count: int):
    from disbursement.services import ledger_accounts_open_credited_bulk
    from prakerja.models import User
    from tests.factories import UserFactory

    users = UserFactory.create_batch(count)
    ledger_accounts_open_credited_bulk(
        owners=User.objects.filter(pk__in=[u.pk for u in users]), amount=1_000_000, key_prefix="w:1:balance"
    )
    return LedgerMovement.objects.get(idempotency_key__startswith="w:1:balance:open:")


def test_a_batch_credit_adds_up_and_a_leg_too_many_or_too_few_does_not(ledger):
    batch = _batch_credit(3)
    assert (batch.amount, batch.entries.count()) == (3_000_000, 4)
    out, _err = _run()
    assert "unbalanced movements: 0" in out.splitlines()

    # One more leg in (the balance kept in step): the legs in no longer make up the amount.
    account = batch.entries.filter(amount__gt=0).first().account
    LedgerEntry.objects.create(movement=batch, account=account, amount=1_000_000)
    LedgerAccount.objects.filter(pk=account.pk).update(balance=F("balance") + 1_000_000)
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=io.StringIO(), stderr=(err := io.StringIO()))
    assert (
        err.getvalue()
        == f"movement {batch.pk}: entries are not one leg of -amount and legs into summing to +amount\n"
    )

    # A second leg out that balances the extra leg in: still refused, a movement has one leg out.
    budget = batch.entries.get(amount__lt=0).account
    LedgerEntry.objects.create(movement=batch, account=budget, amount=-1_000_000)
    LedgerAccount.objects.filter(pk=budget.pk).update(balance=F("balance") - 1_000_000)
    with pytest.raises(CommandError):
        call_command("ledger_check", stdout=(out := io.StringIO()), stderr=io.StringIO())
    assert "unbalanced movements: 1" in out.getvalue().splitlines()
    assert "sum of all entries: 0" in out.getvalue().splitlines()
