import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse

from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.services import ledger_credit
from prakerja.models import AppendOnlyError
from tests.disbursement.factories import TrainingBalanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def movement():
    return ledger_credit(account=TrainingBalanceFactory(), amount=1_000_000, idempotency_key="credit")


def test_entries_and_movements_cannot_be_saved_again_or_deleted(movement):
    entry = LedgerEntry.objects.filter(movement=movement, amount__gt=0).get()
    entry.amount = 5_000_000
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    movement.amount = 5_000_000
    with pytest.raises(AppendOnlyError):
        movement.save(update_fields=["amount"])
    with pytest.raises(AppendOnlyError):
        movement.delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 1_000_000
    assert LedgerMovement.objects.get(pk=movement.pk).amount == 1_000_000


def test_querysets_refuse_bulk_updates_and_deletes(movement):
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(movement=movement).update(amount=1)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        LedgerMovement.objects.update(amount=1)
    with pytest.raises(AppendOnlyError):
        LedgerMovement.objects.filter(pk=movement.pk).delete()
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [-1_000_000, 1_000_000]


def test_accounts_with_entries_cannot_be_deleted_and_balances_never_go_below_zero(movement):
    account = LedgerAccount.objects.get(owner__isnull=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        account.delete()  # PROTECT raises ProtectedError, an IntegrityError
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=account.pk).update(balance=F("balance") - 1_000_001)
    assert LedgerAccount.objects.get(pk=account.pk).balance == 1_000_000


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE disbursement_ledgerentry SET amount = amount * 2",
        "DELETE FROM disbursement_ledgerentry",
        "UPDATE disbursement_ledgermovement SET amount = 1",
        "DELETE FROM disbursement_ledgermovement",
    ],
)
def test_postgres_trigger_refuses_update_and_delete_from_any_client(movement, sql):
    with (
        pytest.raises(DatabaseError, match="ledger rows are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [-1_000_000, 1_000_000]
    assert LedgerMovement.objects.get().amount == 1_000_000


@pytest.mark.postgres
def test_postgres_trigger_still_allows_appending(movement):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO disbursement_ledgerentry (movement_id, account_id, amount) "
            "SELECT movement_id, account_id, amount FROM disbursement_ledgerentry"
        )
    assert LedgerEntry.objects.count() == 4


@pytest.mark.parametrize("model", ["ledgerentry", "ledgermovement", "ledgeraccount"])
def test_admin_has_no_add_change_or_delete(admin_client, movement, model):
    obj = (
        {"ledgerentry": LedgerEntry, "ledgermovement": LedgerMovement, "ledgeraccount": LedgerAccount}[model]
        .objects.order_by("pk")
        .last()
    )
    assert admin_client.get(reverse(f"admin:disbursement_{model}_add")).status_code == 403
    assert admin_client.get(reverse(f"admin:disbursement_{model}_delete", args=[obj.pk])).status_code == 403
    change_url = reverse(f"admin:disbursement_{model}_change", args=[obj.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(change_url, {"amount": "5"}).status_code == 403
    changelist = admin_client.get(reverse(f"admin:disbursement_{model}_changelist"))
    assert b"delete_selected" not in changelist.content
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [-1_000_000, 1_000_000]
