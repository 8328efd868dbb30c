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
