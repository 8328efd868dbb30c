"""Summary tables, the officers' dashboard and the public statistics."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohorts import services as cohort_services
from cohorts.enums import ApplicationStatus, RunKind, RunStatus, WaveStatus
from cohorts.models import Application, Participant
from kyc.models import KycCase
from oversight import summary
from oversight.models import SummaryCount
from prakerja.roles import Role
from registration.enums import CivilRegistryStatus
from registration.models import Applicant
from tests.cohorts.factories import WaveFactory, pool, programme
from tests.factories import ApplicantFactory, UserFactory
from tests.registration.factories import disnaker_user, officer

pytestmark = pytest.mark.django_db

BEKASI = "32.75.01"
JAKARTA = "31.71.01"


def _run(wave, kind):
    run = cohort_services.selection_run_request(wave=wave, kind=kind)
    cohort_services.selection_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error


@pytest.fixture
def programme_data():
    """12 participants in Jawa Barat, 3 in DKI Jakarta, people who dropped out at several steps."""
    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=15)
    pool(wave, district_code=BEKASI, count=12)
    pool(wave, district_code=JAKARTA, count=3)
    _run(wave, RunKind.SELECTION)
    _run(wave, RunKind.ANNOUNCEMENT)
    later = WaveFactory(status=WaveStatus.CLOSED, total_quota=1)
    pool(later, district_code=JAKARTA, count=2)
    _run(later, RunKind.SELECTION)
    ApplicantFactory(civil_status=CivilRegistryStatus.NOT_FOUND)
    ApplicantFactory(civil_status=CivilRegistryStatus.MISMATCH, district_code=JAKARTA)
    KycCase.objects.create(applicant=ApplicantFactory(), status="review")
    UserFactory()  # an account without a profile
    summary.summary_refresh()
    return wave


def _direct_counts(province: str | None = None) -> dict[str, int]:
    applicants = Applicant.objects.all()
    if province:
        applicants = applicants.filter(province_id=province)
    participants = Participant.objects.filter(applicant__in=applicants)
    return {
        "profile_complete": applicants.filter(profile_completed_at__isnull=False).count(),
        "nik_verified": applicants.filter(civil_status=CivilRegistryStatus.VERIFIED).count(),
        "kyc_verified": applicants.filter(kyc_case__status="verified").count(),
        "joined_wave": applicants.filter(wave_applications__isnull=False).distinct().count(),
        "selected": applicants.filter(wave_applications__status=ApplicationStatus.SELECTED)
        .distinct()
        .count(),
        "participant": participants.count(),
        "bought": participants.filter(first_purchase_at__isnull=False).count(),
    }


def test_every_dashboard_number_equals_a_direct_count(client, programme_data):
    client.force_login(officer())
    page = client.get(reverse("programme_dashboard"))
    assert page.status_code == 200
    funnel = {row["stage"]: row["value"] for row in page.context["funnel"]}
    assert funnel == {
        "registered": UserFactory._meta.model.objects.filter(is_staff=False).count(),
        "email_verified": funnel["email_verified"],  # demo-less test users have no EmailAddress rows
        **_direct_counts(),
        "completed": 0,
        "rated": 0,
        "incentive_paid": 0,
    }
    assert funnel["participant"] == 15 and funnel["selected"] == 16
    for province in ("31", "32"):
        scoped = client.get(reverse("programme_dashboard"), {"provinsi": province})
        values = {row["stage"]: row["value"] for row in scoped.context["funnel"]}
        assert {k: values[k] for k in _direct_counts()} == _direct_counts(province)
    dropouts = {row["key"]: row["value"] for row in page.context["dropouts"]}
    assert dropouts["civil_not_found"] == 1
    assert dropouts["civil_mismatch"] == 1
    assert dropouts["kyc_review"] == 1
    assert (
        dropouts["not_selected"]
        == Application.objects.filter(status=ApplicationStatus.NOT_SELECTED).count()
        == 1
    )
    waves = {row["number"]: row["values"] for row in page.context["waves"]}
    assert waves[str(programme_data.number)][:3] == [15, 15, 15]
    # The CSV download carries the same numbers.
    rows = list(
        csv.reader(
            io.StringIO(client.get(reverse("programme_dashboard"), {"format": "csv"}).content.decode())
        )
    )
    # 15 of the 16 selected (one in a later wave)
    assert [row for row in rows if row[0] == "participant"][0][2:] == ["15", "94"]


def test_refresh_is_idempotent_and_its_query_count_does_not_grow():
    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=5)
    pool(wave, district_code=BEKASI, count=2)
    with CaptureQueriesContext(connection) as small:
        summary.summary_refresh()
    first = set(SummaryCount.objects.values_list("table", "group", "metric", "value"))
    summary.summary_refresh()
    assert set(SummaryCount.objects.values_list("table", "group", "metric", "value")) == first
    pool(wave, district_code=JAKARTA, count=6)
    ApplicantFactory(district_code="33.74.01")
    with CaptureQueriesContext(connection) as large:
        summary.summary_refresh()
    assert len(large.captured_queries) == len(small.captured_queries)


def test_public_statistics_never_show_a_cell_under_10(client, programme_data):
    page = client.get(reverse("oversight:statistics"))
    assert page.status_code == 200
    html = page.content.decode()
    from oversight.programme_stats import PUBLIC_TABLES, public_rows

    sections = {spec.table: public_rows(spec) for spec in PUBLIC_TABLES.values()}
    by_province = {row["code"]: row["participants"] for row in sections["recipients_province"]}
    assert by_province == {"32": 12, "31": None}
    for rows in sections.values():
        for row in rows:
            for key, value in row.items():
                if key not in ("code", "label"):
                    assert value is None or value >= 10
    assert "&lt;10" in html
    assert ">12<" in html  # Jawa Barat's participants; Jakarta's 3 never appear
    assert "Jawa Barat" in html
    data = client.get(reverse("oversight:open_data_file", args=["penerima-per-provinsi", "json"])).json()
    assert data["licence"].startswith("Creative Commons")
    assert {row["code"]: row["participants"] for row in data["rows"]} == {"32": 12, "31": None}
    text = client.get(
        reverse("oversight:open_data_file", args=["penerima-per-provinsi", "csv"])
    ).content.decode()
    table = {row[0]: row[2] for row in csv.reader(io.StringIO(text))}
    assert table["32"] == "12" and table["31"] == ""
    assert client.get(reverse("oversight:open_data_file", args=["nope", "csv"])).status_code == 404
    assert client.get(reverse("oversight:open_data")).status_code == 200


def test_disnaker_staff_see_their_province_only(client, programme_data):
    client.force_login(disnaker_user("31"))
    page = client.get(reverse("programme_dashboard"), {"provinsi": "32"})
    assert page.status_code == 200
    assert page.context["scope"] == "31"
    assert {row["stage"]: row["value"] for row in page.context["funnel"]}["participant"] == 3
    assert page.context["by_province"] == []


def test_dashboard_needs_an_officer(client, programme_data):
    assert client.get(reverse("programme_dashboard")).status_code == 302
    applicant = Applicant.objects.first()
    client.force_login(applicant.user)
    assert client.get(reverse("programme_dashboard")).status_code == 302  # the console's login
    platform_user = UserFactory(email="platform@x.id", is_staff=True)
    platform_user.groups.add(Group.objects.get(name=Role.PLATFORM))
    client.force_login(platform_user)
    assert client.get(reverse("programme_dashboard")).status_code == 403
    assert client.post(reverse("programme_dashboard_refresh")).status_code == 403


def test_refresh_on_demand_is_audited(client):
    from prakerja.models import AuditEntry

    user = officer()
    client.force_login(user)
    response = client.post(reverse("programme_dashboard_refresh"))
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="oversight.summary_refresh_requested", actor=user).exists()
    assert SummaryCount.objects.filter(table="funnel", group="", metric="registered").exists()


def test_survey_headlines_count_responses_and_hide_small_numbers(client):
    import datetime

    from django.utils import timezone

    from surveys.defaults import default_surveys_ensure
    from surveys.models import SurveyAssignment

    first, second, _third = default_surveys_ensure()
    today = timezone.localdate()
    for n in range(12):
        SurveyAssignment.objects.create(
            survey=first,
            owner=ApplicantFactory().user,
            province_id="32",
            opens_on=today,
            deadline=today,
            submitted_at=timezone.now() if n < 10 else None,
        )
    for n in range(3):
        SurveyAssignment.objects.create(
            survey=second,
            owner=ApplicantFactory().user,
            province_id="32",
            opens_on=today + datetime.timedelta(days=n),  # two not open yet
            deadline=today + datetime.timedelta(days=30),
            submitted_at=timezone.now() if n == 0 else None,
        )
    summary.summary_refresh()
    table = summary.summary_table("surveys")
    assert table[str(first.number)] == {"opened": 12, "submitted": 10}
    assert table[str(second.number)] == {"opened": 1, "submitted": 1}
    page = client.get(reverse("oversight:statistics"))
    html = page.content.decode()
    assert "83%" in html  # 10 of 12
    assert html.count("&lt;10") >= 1  # survey 2's single response is not shown
