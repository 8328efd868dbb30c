import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disbursement.admin import CappedCountPaginator
from disbursement.enums import ProgrammeAccount
from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.services import ledger_credit, ledger_debit
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.disbursement.factories import TrainingBalanceFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _officer(role: str):
    user = UserFactory(is_staff=True, email=f"{role.split()[0].lower()}@prakerja.test")
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def finance(client):
    client.force_login(_officer(Role.FINANCE_OFFICER))
    return client


def _credited(n: int) -> list[LedgerMovement]:
    return [
        ledger_credit(account=account, amount=1_000_000, idempotency_key=f"credit:{account.pk}")
        for account in TrainingBalanceFactory.create_batch(n)
    ]


@pytest.mark.parametrize("model", ["ledgeraccount", "ledgermovement", "ledgerentry"])
def test_ledger_lists_use_the_same_number_of_queries_for_1_and_3_rows(finance, model):
    url = reverse(f"admin:disbursement_{model}_changelist")
    _credited(1)
    with CaptureQueriesContext(connection) as one:
        assert finance.get(url).status_code == 200
    _credited(2)
    with CaptureQueriesContext(connection) as three:
        response = finance.get(url)
    assert response.status_code == 200
    assert len(three) == len(one)


def test_ledger_lists_never_count_the_whole_table(finance):
    _credited(3)
    with CaptureQueriesContext(connection) as queries:
        finance.get(reverse("admin:disbursement_ledgerentry_changelist"))
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 10001" in counts[0]


def test_capped_paginator_stops_counting_at_the_cap():
    _credited(3)
    paginator = CappedCountPaginator(LedgerEntry.objects.order_by("pk"), per_page=2)
    paginator.cap = 4
    assert paginator.count == 4
    assert CappedCountPaginator(LedgerEntry.objects.order_by("pk"), per_page=2).count == 6


def test_finance_officer_sees_balances_in_rupiah_and_in_indonesian(finance):
    [movement] = _credited(1)
    accounts = finance.get(reverse("admin:disbursement_ledgeraccount_changelist"))
    assert "Rp1.000.000" in accounts.text
    assert "-Rp1.000.000" in accounts.text
    assert "Anggaran pelatihan (sumber saldo pelatihan)" in accounts.text
    detail = finance.get(reverse("admin:disbursement_ledgermovement_change", args=[movement.pk]))
    assert "Pengisian saldo" in detail.text
    assert "Balik (koreksi)" in detail.text
    account = LedgerAccount.objects.get(owner__isnull=False)
    page = finance.get(reverse("admin:disbursement_ledgeraccount_change", args=[account.pk]))
    assert "Rp1.000.000" in page.text
    assert f"?account__id__exact={account.pk}" in page.text
    entries = finance.get(
        reverse("admin:disbursement_ledgerentry_changelist") + f"?account__id__exact={account.pk}"
    )
    assert entries.status_code == 200
    assert list(entries.context["cl"].result_list) == list(LedgerEntry.objects.filter(account=account))


def test_finance_officer_corrects_a_movement_by_reversing_it_with_a_reason(finance):
    account = TrainingBalanceFactory()
    ledger_credit(account=account, amount=1_000_000, idempotency_key="credit")
    purchase = ledger_debit(account=account, amount=300_000, idempotency_key="buy")
    url = reverse("admin:disbursement_ledgermovement_reverse", args=[purchase.pk])
    form = finance.get(url)
    assert f"Balik mutasi #{purchase.pk}" in form.text
    assert "Rp300.000" in form.text

    response = finance.post(url, {"reason": "Tiket #4411: pelatihan dibatalkan platform"}, follow=True)
    reversal = LedgerMovement.objects.get(reverses=purchase)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:disbursement_ledgermovement_change", args=[reversal.pk]
    )
    assert f"Mutasi #{purchase.pk} telah dibalik dengan mutasi #{reversal.pk}." in response.text
    assert (reversal.kind, reversal.amount, reversal.memo, reversal.actor.email) == (
        "reversal",
        300_000,
        "Tiket #4411: pelatihan dibatalkan platform",
        "finance@prakerja.test",
    )
    assert LedgerAccount.objects.get(pk=account.pk).balance == 1_000_000
    audit = AuditEntry.objects.get(action="disbursement.movement_reverse")
    assert (audit.actor_repr, audit.target_id, audit.data["memo"]) == (
        "finance@prakerja.test",
        str(purchase.pk),
        "Tiket #4411: pelatihan dibatalkan platform",
    )
    # The original can no longer be reversed, and the button is gone.
    page = finance.get(reverse("admin:disbursement_ledgermovement_change", args=[purchase.pk]))
    assert "Balik (koreksi)" not in page.text
    again = finance.post(url, {"reason": "sekali lagi, tidak boleh"}, follow=True)
    assert "Mutasi ini tidak dapat dibalik" in again.text
    assert LedgerMovement.objects.filter(reverses=purchase).count() == 1


def test_reversal_form_explains_errors_in_indonesian_and_keeps_the_reason(finance):
    account = TrainingBalanceFactory()
    credit = ledger_credit(account=account, amount=1_000_000, idempotency_key="credit")
    ledger_debit(account=account, amount=800_000, idempotency_key="buy")
    url = reverse("admin:disbursement_ledgermovement_reverse", args=[credit.pk])

    short = finance.post(url, {"reason": "salah"})
    assert short.status_code == 200
    assert "Pastikan nilai ini mengandung paling sedikit 10 karakter" in short.text
    assert ">\nsalah</textarea>" in short.text

    spent = finance.post(url, {"reason": "Kredit ganda, tiket #17"})
    assert spent.status_code == 200
    assert "Saldo Rp200.000 tidak cukup untuk Rp1.000.000." in spent.text
    assert ">\nKredit ganda, tiket #17</textarea>" in spent.text
    assert not LedgerMovement.objects.filter(reverses=credit).exists()
    assert not AuditEntry.objects.filter(action="disbursement.movement_reverse").exists()


def test_programme_officer_may_look_but_not_correct(client):
    client.force_login(_officer(Role.PROGRAMME_OFFICER))
    [movement] = _credited(1)
    page = client.get(reverse("admin:disbursement_ledgermovement_change", args=[movement.pk]))
    assert page.status_code == 200
    assert "Balik (koreksi)" not in page.text
    url = reverse("admin:disbursement_ledgermovement_reverse", args=[movement.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "Saya bukan petugas keuangan"}).status_code == 403
    assert not LedgerMovement.objects.filter(reverses=movement).exists()


@pytest.mark.parametrize("role", [Role.DISNAKER_STAFF, Role.KYC_REVIEWER, Role.PLATFORM])
def test_other_roles_cannot_see_the_ledger(client, role):
    client.force_login(_officer(role))
    [movement] = _credited(1)
    for name, args in [
        ("ledgeraccount_changelist", []),
        ("ledgerentry_changelist", []),
        ("ledgermovement_changelist", []),
        ("ledgermovement_change", [movement.pk]),
        ("ledgermovement_reverse", [movement.pk]),
    ]:
        assert client.get(reverse(f"admin:disbursement_{name}", args=args)).status_code == 403


def test_applicant_cannot_reach_the_ledger_console(client):
    client.force_login(UserFactory())
    [movement] = _credited(1)
    response = client.get(reverse("admin:disbursement_ledgermovement_reverse", args=[movement.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_programme_accounts_are_listed_for_the_demo(finance):
    from io import StringIO

    from django.core.management import call_command

    from marketplace.models import Platform, Purchase

    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    # Every platform has its payable account (opened with its settlement account); the demos' purchases
    # are paid into them.
    payable = {f"platform_payable:{pk}" for pk in Platform.objects.values_list("pk", flat=True)}
    assert {
        f"platform_payable:{pk}" for pk in Purchase.objects.values_list("platform_id", flat=True)
    } <= payable
    assert len(payable) == 8
    # The payouts demo opens one clearing account per payment partner it pays through.
    from disbursement.models import PaymentPartner

    clearing = [p.clearing_code for p in PaymentPartner.objects.all()]
    assert len(clearing) == 2
    assert sorted(LedgerAccount.objects.filter(owner__isnull=True).values_list("code", flat=True)) == sorted(
        [*ProgrammeAccount.values, *payable, *clearing]
    )


def test_searches_are_exact_matches_on_indexed_columns(finance):
    account = TrainingBalanceFactory(owner__email="dewi@contoh.id")
    credit = ledger_credit(
        account=account, amount=1_000_000, idempotency_key="wave:1:1", reference="cohorts.wave:1"
    )
    ledger_debit(account=account, amount=100_000, idempotency_key="buy:7", reference="marketplace.purchase:7")
    _credited(2)

    def found(model, term):
        response = finance.get(reverse(f"admin:disbursement_{model}_changelist"), {"q": term})
        return sorted(obj.pk for obj in response.context["cl"].result_list)

    assert found("ledgeraccount", "DEWI@contoh.id") == [account.pk]
    assert found("ledgeraccount", "training_budget") == [LedgerAccount.objects.get(code="training_budget").pk]
    assert found("ledgeraccount", "dewi") == []
    assert found("ledgermovement", "cohorts.wave:1") == [credit.pk]
    assert found("ledgermovement", "wave:1:1") == [credit.pk]
    assert found("ledgermovement", "cohorts.wave") == []
    assert found("ledgerentry", "dewi@contoh.id") == sorted(
        LedgerEntry.objects.filter(account=account).values_list("pk", flat=True)
    )
    assert found("ledgerentry", "marketplace.purchase:7") == sorted(
        LedgerEntry.objects.filter(movement__reference="marketplace.purchase:7").values_list("pk", flat=True)
    )


def test_a_batch_credit_is_shown_with_its_count_and_a_link_to_its_legs_and_cannot_be_reversed(finance):
    from disbursement.services import ledger_accounts_open_credited_bulk
    from prakerja.models import User

    users = UserFactory.create_batch(3)
    ledger_accounts_open_credited_bulk(
        owners=User.objects.filter(pk__in=[u.pk for u in users]), amount=1_000_000, key_prefix="w:1:balance"
    )
    [single] = _credited(1)
    batch = LedgerMovement.objects.get(idempotency_key__startswith="w:1:balance:open:")
    legs_url = f"?movement__id__exact={batch.pk}"

    listing = finance.get(reverse("admin:disbursement_ledgermovement_changelist"))
    assert listing.status_code == 200
    assert "beberapa akun" in listing.text
    assert "Rp3.000.000" in listing.text
    assert legs_url in listing.text

    detail = finance.get(reverse("admin:disbursement_ledgermovement_change", args=[batch.pk]))
    assert "Ke 3 akun (kredit kolektif): lihat entri" in detail.text
    assert legs_url in detail.text
    assert "Balik (koreksi)" not in detail.text
    # An ordinary movement keeps its legs inline and its reverse button.
    ordinary = finance.get(reverse("admin:disbursement_ledgermovement_change", args=[single.pk]))
    assert "kredit kolektif" not in ordinary.text
    assert "Balik (koreksi)" in ordinary.text

    legs = finance.get(reverse("admin:disbursement_ledgerentry_changelist") + legs_url)
    assert legs.status_code == 200
    assert sorted(entry.amount for entry in legs.context["cl"].result_list) == [
        -3_000_000, 1_000_000, 1_000_000, 1_000_000,
    ]  # fmt: skip

    url = reverse("admin:disbursement_ledgermovement_reverse", args=[batch.pk])
    refused = finance.post(url, {"reason": "tidak boleh"}, follow=True)
    assert "kredit kolektif" in refused.text
    assert not LedgerMovement.objects.filter(reverses=batch).exists()
