"""The payouts console: lists (query counts), masking, partner credentials, batch actions, progress."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disbursement.enums import BatchStatus
from disbursement.models import PaymentPartner, PayoutBatch
from disbursement.services import batch_prepare
from disbursement.services.partners import partner_secret_decrypt
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.disbursement.factories import PaymentPartnerFactory, PayoutAccountFactory
from tests.disbursement.payout_helpers import FakePartner, finance_officer, person_with_due, use_fake_partner
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return finance_officer("finance@x.test")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["payoutaccount", "entitlement", "payoutbatch", "payout", "paymentpartner"])
def test_lists_query_count_does_not_grow(client, officer, name):
    client.force_login(officer)
    partner = PaymentPartnerFactory()
    url = reverse(f"admin:disbursement_{name}_changelist")
    person_with_due(partner=partner)
    batch_prepare(partner=partner, actor=officer)
    one = _queries(client, url)
    for _ in range(2):
        person_with_due(partner=PaymentPartnerFactory() if name == "paymentpartner" else partner)
    batch_prepare(partner=partner, actor=officer)
    batch_prepare(partner=partner, actor=officer)  # nothing left: no third batch
    three = _queries(client, url)
    assert three == one


def test_account_numbers_masked_in_lists_full_only_for_finance_detail(client, officer):
    account = PayoutAccountFactory(account_number="081234567890")
    client.force_login(officer)
    listing = client.get(reverse("admin:disbursement_payoutaccount_changelist")).content.decode()
    assert "081234567890" not in listing and "••••••••7890" in listing
    detail = client.get(
        reverse("admin:disbursement_payoutaccount_change", args=[account.pk])
    ).content.decode()
    assert "081234567890" in detail
    programme = UserFactory(is_staff=True, email="po@x.test")
    from django.contrib.auth.models import Group

    programme.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    client.force_login(programme)
    detail = client.get(
        reverse("admin:disbursement_payoutaccount_change", args=[account.pk])
    ).content.decode()
    assert "081234567890" not in detail and "••••••••7890" in detail


def test_partner_secret_is_stored_encrypted_and_audited(client, officer):
    client.force_login(officer)
    response = client.post(
        reverse("admin:disbursement_paymentpartner_add"),
        {
            "name": "BNI",
            "kind": "bank",
            "channels": ["bni", "bni_va"],
            "base_url": "http://127.0.0.1:8765",
            "key_id": "bni-1",
            "secret": "s3cret-value",
            "callback_secret": "cb-value",
            "active": "on",
            "batch_limit": "5000",
        },
    )
    assert response.status_code == 302
    partner = PaymentPartner.objects.get(name="BNI")
    assert partner.channels == ["bni", "bni_va"]
    assert "s3cret" not in partner.secret_encrypted
    assert partner_secret_decrypt(partner.secret_encrypted) == "s3cret-value"
    entry = AuditEntry.objects.get(action="disbursement.partner_create")
    assert "s3cret" not in str(entry.data) and entry.actor == officer


def test_prepare_button_and_approve_action(client, officer, monkeypatch, django_capture_on_commit_callbacks):
    use_fake_partner(monkeypatch, FakePartner("paid"))
    person_with_due()
    client.force_login(officer)
    response = client.post(reverse("admin:disbursement_payoutbatch_prepare"))
    assert response.status_code == 302
    batch = PayoutBatch.objects.get()
    assert batch.prepared_by == officer
    changelist = reverse("admin:disbursement_payoutbatch_changelist")
    client.post(changelist, {"action": "approve", "_selected_action": [batch.pk]})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PREPARED  # the preparer may not approve
    other = finance_officer("other@x.test")
    client.force_login(other)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "approve", "_selected_action": [batch.pk]})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE
    progress = client.get(
        reverse("admin:disbursement_payoutbatch_progress", args=[batch.pk]) + "?format=json"
    )
    assert progress.json()["counts"]["paid_count"] == 1
    assert progress.json()["amounts"]["paid_amount"] == "Rp600.000"
    page = client.get(reverse("admin:disbursement_payoutbatch_progress", args=[batch.pk]))
    assert page.status_code == 200


@pytest.mark.parametrize("role", [Role.DISNAKER_STAFF, Role.KYC_REVIEWER, Role.PLATFORM])
def test_other_roles_see_no_payout_pages(client, role):
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True, email="x@x.test")
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    for name in ["payoutaccount", "entitlement", "payoutbatch", "payout", "paymentpartner"]:
        assert client.get(reverse(f"admin:disbursement_{name}_changelist")).status_code == 403
    assert client.post(reverse("admin:disbursement_payoutbatch_prepare")).status_code == 403
