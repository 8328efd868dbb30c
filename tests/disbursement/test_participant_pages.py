"""/insentif/ and the dashboard's payout steps."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disbursement.enums import EntitlementKind, EntitlementReason
from disbursement.services import entitlements_hold_for_owner, entitlements_schedule
from tests.disbursement.factories import PayoutAccountFactory
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _schedule(user, count, key="t"):
    return entitlements_schedule(
        owner=user,
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=600_000,
        count=count,
        first_due_on=datetime.date(2027, 1, 10),
        reference="rating:1",
        idempotency_key=f"{key}:{user.pk}",
    )


def _steps(client):
    response = client.get(reverse("dashboard"))
    return {s.key: s for s in response.context["steps"]}


def test_steps_are_locked_before_any_incentive(client):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    steps = _steps(client)
    assert (steps["payout_account"].status, steps["payout_account"].detail) == (
        "locked",
        "Setelah Anda menilai pelatihan pertama yang selesai.",
    )
    assert steps["incentive"].status == "locked"


def test_steps_with_a_schedule_and_no_account_ask_to_link(client):
    applicant = ApplicantFactory()
    _schedule(applicant.user, 4)
    client.force_login(applicant.user)
    steps = _steps(client)
    assert steps["payout_account"].status == "current"
    assert steps["payout_account"].action_url == reverse("disbursement:payout_account")
    assert steps["incentive"].detail == "0 dari 4 sudah dibayar (Rp0). Berikutnya: Rp600.000 pada 10-01-2027."


def test_steps_with_an_account_and_a_hold(client):
    applicant = ApplicantFactory()
    PayoutAccountFactory(owner=applicant.user, account_number="081234567890")
    _schedule(applicant.user, 2)
    entitlements_hold_for_owner(owner=applicant.user, reason=EntitlementReason.REVOKED)
    client.force_login(applicant.user)
    steps = _steps(client)
    assert (steps["payout_account"].status, steps["payout_account"].detail) == ("done", "OVO ••••••••7890")
    assert steps["incentive"].status == "failed"
    assert (
        "ditangguhkan" in steps["incentive"].detail.lower() or "dicabut" in steps["incentive"].detail.lower()
    )


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("disbursement:incentives"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_incentives_page_query_count_with_1_and_3_rows(client):
    user = UserFactory()
    PayoutAccountFactory(owner=user)
    client.force_login(user)
    _schedule(user, 1, key="a")
    one = _page_queries(client)
    _schedule(user, 2, key="b")
    assert _page_queries(client) == one


def test_incentives_page_shows_schedule_and_masked_account(client):
    user = UserFactory()
    PayoutAccountFactory(owner=user, account_number="081234567890")
    _schedule(user, 4)
    client.force_login(user)
    html = client.get(reverse("disbursement:incentives")).content.decode()
    assert html.count("Rp600.000") == 4
    assert "••••••••7890" in html and "081234567890" not in html
    assert "Terjadwal" in html


def test_incentives_page_says_no_account_for_a_due_payment(client):
    from disbursement.services import entitlements_accrue_due

    user = UserFactory()
    _schedule(user, 1)
    entitlements_accrue_due(today=datetime.date(2027, 1, 10))
    client.force_login(user)
    html = client.get(reverse("disbursement:incentives")).content.decode()
    assert "Hubungkan rekening bank atau e-wallet" in html


def test_incentives_page_needs_login(client):
    response = client.get(reverse("disbursement:incentives"))
    assert response.status_code == 302


def test_the_menu_links_insentif_for_participants_only(client):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    link = f'<a href="{reverse("disbursement:incentives")}">Insentif</a>'
    response = client.get(reverse("help"))
    assert response.status_code == 200 and link in response.content.decode()
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("help"))
    assert response.status_code == 200 and link not in response.content.decode()


def test_an_account_the_partner_refused_is_not_shown_as_active(
    monkeypatch, client, django_capture_on_commit_callbacks
):
    from disbursement.services import batch_approve, batch_prepare, payout_retry
    from tests.disbursement.payout_helpers import (
        FakePartner,
        finance_officer,
        person_with_due,
        use_fake_partner,
    )
    from tests.factories import reauthenticate

    fake = use_fake_partner(monkeypatch, FakePartner("failed"))
    account = person_with_due()
    ApplicantFactory(user=account.owner)
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    client.force_login(account.owner)
    for url in (reverse("disbursement:incentives"), reverse("disbursement:payout_account")):
        if url == reverse("disbursement:payout_account"):
            reauthenticate(client)
        page = client.get(url).content.decode()
        assert "Ditolak bank atau e-wallet" in page, url
        assert "Pembayaran terakhir ke rekening ini ditolak" in page
        assert "&middot; Aktif" not in page

    # Paid on a later try (the partner's answer was wrong, or the account reopened): active again.
    fake.first.clear()
    fake.default = "paid"
    payout = account.payouts.get()
    with django_capture_on_commit_callbacks(execute=True):
        payout_retry(payout_id=payout.pk, actor=finance_officer("c@x.test"))
    page = client.get(reverse("disbursement:incentives")).content.decode()
    assert "Ditolak bank atau e-wallet" not in page
    assert "&middot; Aktif" in page


def test_the_safety_wait_of_a_new_account_says_its_date(client):
    account = PayoutAccountFactory(payable_from=datetime.datetime(2099, 3, 5, 2, 0, tzinfo=datetime.UTC))
    ApplicantFactory(user=account.owner)
    _schedule(account.owner, 1)
    from disbursement.models import Entitlement

    Entitlement.objects.filter(owner=account.owner).update(status="due")
    client.force_login(account.owner)
    page = client.get(reverse("disbursement:incentives")).content.decode()
    assert "pembayaran ke rekening itu dimulai 5 Maret 2099 09:00" in page
