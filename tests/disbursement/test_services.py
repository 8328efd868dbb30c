import pytest

from disbursement.enums import AccountKind, MovementKind, ProgrammeAccount
from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.selectors import ledger_balance_derived, ledger_check, ledger_statement
from disbursement.services import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    LedgerError,
    ledger_account_open,
    ledger_accounts_open_bulk,
    ledger_credit,
    ledger_debit,
    ledger_forfeit,
    ledger_programme_account_open,
    ledger_reverse,
    ledger_transfer,
)
from prakerja.audit import audit_entries_for
from prakerja.models import User
from tests.disbursement.factories import TrainingBalanceFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _balance(account) -> int:
    return LedgerAccount.objects.get(pk=account.pk).balance


def _legs(movement) -> list[tuple[int, int]]:
    return sorted(LedgerEntry.objects.filter(movement=movement).values_list("account_id", "amount"))


def test_credit_is_a_pair_of_entries_and_updates_both_balances():
    account = TrainingBalanceFactory()
    movement = ledger_credit(
        account=account, amount=1_000_000, idempotency_key="wave:1:credit:1", reference="cohorts.wave:1"
    )
    budget = LedgerAccount.objects.get(code=ProgrammeAccount.TRAINING_BUDGET)
    assert (movement.kind, movement.amount, movement.reference) == ("credit", 1_000_000, "cohorts.wave:1")
    assert _legs(movement) == sorted([(budget.pk, -1_000_000), (account.pk, 1_000_000)])
    assert (_balance(account), _balance(budget)) == (1_000_000, -1_000_000)
    assert ledger_balance_derived(account=account) == 1_000_000
    assert budget.allow_negative is True


def test_same_idempotency_key_twice_moves_money_once_and_returns_the_first_movement():
    account = TrainingBalanceFactory()
    first = ledger_credit(account=account, amount=1_000_000, idempotency_key="k1")
    second = ledger_credit(account=account, amount=1_000_000, idempotency_key="k1")
    assert second.pk == first.pk
    assert LedgerMovement.objects.count() == 1
    assert LedgerEntry.objects.count() == 2
    assert _balance(account) == 1_000_000


def test_key_reused_for_another_amount_account_or_kind_is_refused():
    account, other = TrainingBalanceFactory(), TrainingBalanceFactory()
    ledger_credit(account=account, amount=1_000_000, idempotency_key="k1")
    with pytest.raises(IdempotencyConflict) as error:
        ledger_credit(account=account, amount=2_000_000, idempotency_key="k1")
    assert str(error.value.message) == "Kunci idempotensi k1 sudah dipakai untuk mutasi lain."
    with pytest.raises(IdempotencyConflict):
        ledger_credit(account=other, amount=1_000_000, idempotency_key="k1")
    with pytest.raises(IdempotencyConflict):
        ledger_credit(account=account, amount=1_000_000, idempotency_key="k1", kind=MovementKind.INCENTIVE)
    assert (_balance(account), _balance(other), LedgerMovement.objects.count()) == (1_000_000, 0, 1)


def test_debit_refuses_to_overdraw_and_records_nothing():
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=100_000, idempotency_key="credit")
    with pytest.raises(InsufficientFunds) as error:
        ledger_debit(
            account=account, amount=150_000, idempotency_key="buy", reference="marketplace.purchase:9"
        )
    assert str(error.value.message) == "Saldo Rp100.000 tidak cukup untuk Rp150.000."
    assert not LedgerMovement.objects.filter(idempotency_key="buy").exists()
    assert _balance(account) == 100_000


def test_debit_pays_the_platform_payable_account():
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=1_000_000, idempotency_key="credit")
    purchase = ledger_debit(
        account=account, amount=650_000, idempotency_key="buy:1", reference="marketplace.purchase:1"
    )
    payable = LedgerAccount.objects.get(code=ProgrammeAccount.PLATFORM_PAYABLE)
    assert purchase.kind == MovementKind.PURCHASE
    assert _legs(purchase) == sorted([(account.pk, -650_000), (payable.pk, 650_000)])
    assert (_balance(account), _balance(payable)) == (350_000, 650_000)
    # Exactly the whole balance is fine; one rupiah more is not.
    ledger_debit(account=account, amount=350_000, idempotency_key="buy:2")
    with pytest.raises(InsufficientFunds):
        ledger_debit(account=account, amount=1, idempotency_key="buy:3")
    assert _balance(account) == 0


def test_forfeit_moves_the_whole_remaining_balance_once():
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=1_000_000, idempotency_key="credit")
    ledger_debit(account=account, amount=300_000, idempotency_key="buy")
    forfeit = ledger_forfeit(account=account, idempotency_key="deadline:1", reference="cohorts.participant:1")
    forfeits = LedgerAccount.objects.get(code=ProgrammeAccount.FORFEITED)
    assert (forfeit.kind, forfeit.amount) == ("forfeit", 700_000)
    assert (_balance(account), _balance(forfeits)) == (0, 700_000)
    assert ledger_forfeit(account=account, idempotency_key="deadline:1").pk == forfeit.pk
    # A new key on an empty balance records nothing.
    assert ledger_forfeit(account=account, idempotency_key="programme-end:1") is None
    assert LedgerMovement.objects.filter(kind=MovementKind.FORFEIT).count() == 1


def test_reversal_refunds_a_purchase_once_and_is_audited(django_user_model):
    officer = django_user_model.objects.create_user(email="keuangan@example.id", password="x" * 12)
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=1_000_000, idempotency_key="credit")
    purchase = ledger_debit(account=account, amount=400_000, idempotency_key="buy")
    refund = ledger_reverse(
        movement=purchase,
        idempotency_key="refund:buy",
        reference="marketplace.purchase:3",
        actor=officer,
        memo="course cancelled by the platform",
        kind=MovementKind.REFUND,
    )
    payable = LedgerAccount.objects.get(code=ProgrammeAccount.PLATFORM_PAYABLE)
    assert (refund.kind, refund.amount, refund.reverses_id, refund.actor_id) == (
        "refund",
        400_000,
        purchase.pk,
        officer.pk,
    )
    assert _legs(refund) == sorted([(payable.pk, -400_000), (account.pk, 400_000)])
    assert (_balance(account), _balance(payable)) == (1_000_000, 0)
    [audit] = audit_entries_for(purchase)
    assert (audit.actor_repr, audit.action, audit.data) == (
        "keuangan@example.id",
        "disbursement.movement_reverse",
        {
            "reversal_id": refund.pk,
            "amount": 400_000,
            "kind": "refund",
            "memo": "course cancelled by the platform",
        },
    )
    assert (
        ledger_reverse(movement=purchase, idempotency_key="refund:buy", kind=MovementKind.REFUND).pk
        == refund.pk
    )
    with pytest.raises(AlreadyReversed) as error:
        ledger_reverse(movement=purchase, idempotency_key="another-key")
    assert str(error.value.message) == "Mutasi ini sudah pernah dibalik."
    with pytest.raises(LedgerError) as error:
        ledger_reverse(movement=refund, idempotency_key="undo-refund")
    assert str(error.value.message) == "Mutasi ini adalah pembalikan dan tidak dapat dibalik lagi."
    assert audit_entries_for(purchase).count() == 1
    assert _balance(account) == 1_000_000


def test_reversal_is_refused_when_the_money_is_already_spent():
    account = TrainingBalanceFactory()
    credit = ledger_credit(account=account, amount=1_000_000, idempotency_key="credit")
    ledger_debit(account=account, amount=900_000, idempotency_key="buy")
    with pytest.raises(InsufficientFunds):
        ledger_reverse(movement=credit, idempotency_key="fix")
    assert _balance(account) == 100_000
    assert not LedgerMovement.objects.filter(reverses=credit).exists()


@pytest.mark.parametrize(
    ("amount", "error"), [(0, ValueError), (-5, ValueError), (10.0, TypeError), (True, TypeError)]
)
def test_amounts_are_positive_whole_rupiah(amount, error):
    account = TrainingBalanceFactory()
    with pytest.raises(error):
        ledger_credit(account=account, amount=amount, idempotency_key="k")
    assert LedgerMovement.objects.count() == 0


def test_transfer_between_the_same_account_is_refused():
    account = TrainingBalanceFactory()
    with pytest.raises(ValueError):
        ledger_transfer(source=account, destination=account, amount=1, kind="credit", idempotency_key="k")


def test_opening_accounts_is_idempotent_one_by_one_and_in_bulk():
    users = UserFactory.create_batch(3)
    first = ledger_account_open(owner=users[0])
    assert ledger_account_open(owner=users[0]).pk == first.pk
    opened = ledger_accounts_open_bulk(owners=User.objects.filter(pk__in=[u.pk for u in users]))
    assert opened == 2
    assert ledger_accounts_open_bulk(owners=User.objects.filter(pk__in=[u.pk for u in users])) == 0
    accounts = LedgerAccount.objects.filter(owner__in=users)
    assert sorted(accounts.values_list("owner_id", "kind", "balance")) == sorted(
        (u.pk, AccountKind.TRAINING_BALANCE, 0) for u in users
    )
    with pytest.raises(ValueError):
        ledger_account_open(owner=users[0], kind=AccountKind.PROGRAMME)


def test_programme_accounts_are_opened_once_and_only_budgets_may_go_negative():
    budget = ledger_programme_account_open(code=ProgrammeAccount.TRAINING_BUDGET)
    assert ledger_programme_account_open(code=ProgrammeAccount.TRAINING_BUDGET).pk == budget.pk
    platform = ledger_programme_account_open(code="platform_payable:tokopedia", name="Tokopedia")
    assert (budget.allow_negative, platform.allow_negative, str(platform)) == (True, False, "Tokopedia")
    assert str(budget) == "Anggaran pelatihan (sumber saldo pelatihan)"


def test_statement_lists_the_newest_entries_first_and_the_ledger_adds_up():
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=1_000_000, idempotency_key="credit")
    ledger_debit(account=account, amount=250_000, idempotency_key="buy")
    assert [(e.movement.kind, e.amount) for e in ledger_statement(account=account)] == [
        ("purchase", -250_000),
        ("credit", 1_000_000),
    ]
    result = ledger_check()
    assert (result.ok, result.accounts_checked, result.movements_checked, result.entries_sum) == (
        True,
        3,
        2,
        0,
    )
