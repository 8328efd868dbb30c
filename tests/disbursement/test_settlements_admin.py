"""The settlements console: statement (page and CSV), bank account form, prepare, approval messages, roles."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disbursement.enums import BatchStatus
from disbursement.models import PayoutBatch, SettlementAccount
from disbursement.services.settlements import settlement_account_number, settlement_batch_prepare
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import FakePartner, finance_officer, use_fake_partner
from tests.disbursement.settlement_helpers import platform_payee, redeemed, with_bank
from tests.factories import UserFactory, reauthenticate

pytestmark = pytest.mark.django_db


def _statement(payee) -> str:
    return reverse("admin:disbursement_settlementaccount_statement", args=[payee.pk])


def _officer(role, email):
    user = UserFactory(is_staff=True, email=email)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_statement_page_and_csv_show_each_voucher_with_the_account_masked(client):
    payee = with_bank(platform_payee(), number="9876543210")
    redeemed(payee, 300_000, 450_000, description="@SUM(1+1)")
    client.force_login(finance_officer("f@x.test"))
    page = client.get(_statement(payee)).content.decode()
    assert "VCR00001" in page and "VCR00002" in page
    assert "••••••3210" in page and "9876543210" not in page
    assert "Siapkan penyelesaian sebesar Rp750.000" in page
    download = client.get(_statement(payee) + "?format=csv")
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    body = download.content.decode()
    assert "'@SUM(1+1)" in body and "9876543210" not in body
    listing = client.get(reverse("admin:disbursement_settlementaccount_changelist")).content.decode()
    assert "••••••3210" in listing and "9876543210" not in listing


def test_statement_query_count_does_not_grow(client):
    payee = with_bank(platform_payee())
    redeemed(payee, 100_000)
    settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("p@x.test"))
    client.force_login(finance_officer("f@x.test"))

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_statement(payee)).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    redeemed(payee, 100_000, 200_000, start=2)
    assert queries() == one


def test_prepare_from_the_statement_then_another_officer_approves(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    use_fake_partner(monkeypatch, FakePartner("paid"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000)
    preparer = finance_officer("p@x.test")
    client.force_login(preparer)
    prepare = reverse("admin:disbursement_settlementaccount_prepare", args=[payee.pk])
    assert client.get(prepare).status_code == 302  # GET changes nothing
    assert not PayoutBatch.objects.exists()
    response = client.post(prepare, follow=True)
    batch = PayoutBatch.objects.get()
    assert f"Batch penyelesaian #{batch.pk} untuk Platform Uji: Rp300.000" in response.content.decode()
    response = client.post(prepare, follow=True)
    assert "Tidak ada yang perlu diselesaikan" in response.content.decode()
    changelist = reverse("admin:disbursement_payoutbatch_changelist")
    client.post(changelist, {"action": "approve", "_selected_action": [batch.pk]})
    assert PayoutBatch.objects.get().status == BatchStatus.PREPARED  # the preparer may not approve
    client.force_login(finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "approve", "_selected_action": [batch.pk]})
    assert PayoutBatch.objects.get().status == BatchStatus.DONE
    assert "Dibayar" in client.get(_statement(payee)).content.decode()
    progress = client.get(
        reverse("admin:disbursement_payoutbatch_progress", args=[batch.pk])
    ).content.decode()
    assert "Platform Uji" in progress


def test_an_approval_that_needs_another_approver_says_so(
    client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PAYOUT_THIRD_APPROVAL_ABOVE = 500_000
    use_fake_partner(monkeypatch, FakePartner("paid"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000, 450_000)
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("p@x.test"))
    client.force_login(finance_officer("a@x.test"))
    changelist = reverse("admin:disbursement_payoutbatch_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "approve", "_selected_action": [batch.pk]}, follow=True)
    expected = (
        f"Batch #{batch.pk} BELUM dikirim: totalnya Rp750.000 di atas Rp500.000, sehingga perlu 2 persetujuan "
        "dan baru ada 1. Petugas Keuangan lain (bukan penyiap dan bukan yang sudah menyetujui) harus "
        "menyetujuinya juga."
    )
    assert expected in response.content.decode()
    progress = client.get(
        reverse("admin:disbursement_payoutbatch_progress", args=[batch.pk])
    ).content.decode()
    assert expected in progress
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "approve", "_selected_action": [batch.pk]}, follow=True)
    assert "BELUM dikirim" not in response.content.decode()  # the same officer twice: refused, not counted
    client.force_login(finance_officer("b@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "approve", "_selected_action": [batch.pk]}, follow=True)
    assert "BELUM dikirim" not in response.content.decode()
    assert PayoutBatch.objects.get().status == BatchStatus.DONE


def test_an_approval_message_in_english(client, settings):
    settings.PAYOUT_THIRD_APPROVAL_ABOVE = 100_000
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000)
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("p@x.test"))
    officer = finance_officer("a@x.test")
    officer.language = "en"
    officer.save()
    client.force_login(officer)
    changelist = reverse("admin:disbursement_payoutbatch_changelist")
    response = client.post(
        changelist,
        {"action": "approve", "_selected_action": [batch.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert (
        f"Batch #{batch.pk} is NOT sent yet: its total Rp300.000 is above Rp100.000"
        in response.content.decode()
    )


def test_bank_account_form_asks_for_the_password_and_stores_it_encrypted(client):
    payee = platform_payee()
    partner = PaymentPartnerFactory(kind="bank", channels=["bni"])
    officer = finance_officer("f@x.test")
    client.force_login(officer)
    url = reverse("admin:disbursement_settlementaccount_bank", args=[payee.pk])
    assert "reauthenticate" in client.get(url)["Location"]
    reauthenticate(client)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"partner": partner.pk, "channel": "bni", "account_number": "1234 5678 90", "holder_name": "PT UJI"},
    )
    assert response.status_code == 302
    payee = SettlementAccount.objects.get(pk=payee.pk)
    assert settlement_account_number(payee) == "1234567890"
    assert payee.account_number_masked == "••••••7890"
    assert AuditEntry.objects.get(action="disbursement.settlement_account_bank_set").actor == officer
    response = client.post(
        url, {"partner": partner.pk, "channel": "bni", "account_number": "12", "holder_name": "PT UJI"}
    )
    assert "Nomor rekening bank terdiri dari 6 sampai 20 angka." in response.content.decode()


@pytest.mark.parametrize(
    "role", [Role.PROGRAMME_OFFICER, Role.KYC_REVIEWER, Role.DISNAKER_STAFF, Role.PLATFORM]
)
def test_no_other_role_prepares_or_changes_the_bank_account(client, role):
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000)
    user = _officer(role, "x@x.test")
    client.force_login(user)
    reauthenticate(client)
    assert (
        client.post(reverse("admin:disbursement_settlementaccount_prepare", args=[payee.pk])).status_code
        == 403
    )
    bank = reverse("admin:disbursement_settlementaccount_bank", args=[payee.pk])
    assert client.post(bank, {"account_number": "1111111111"}).status_code == 403
    statement = client.get(_statement(payee)).status_code
    assert statement == (200 if role == Role.PROGRAMME_OFFICER else 403)
    assert not PayoutBatch.objects.exists()
    assert SettlementAccount.objects.get(pk=payee.pk).account_number_masked == "••••••7890"
