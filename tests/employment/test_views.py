"""The participant's side: the job profile with its consent, and the "Lowongan" page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from employment import services
from employment.models import JobProfile, JobSharingConsent
from prakerja.audit import audit_entries_for
from tests.employment.factories import job_platform, sharing_profile
from tests.factories import ApplicantFactory
from tests.marketplace.factories import completed_training, participant_with_balance

pytestmark = pytest.mark.django_db


def test_sharing_needs_the_explicit_consent_and_unticking_withdraws_at_once(client):
    karirku, loker = job_platform("karirku"), job_platform("lokerpintar")
    participant = completed_training().participant
    client.force_login(participant.applicant.user)
    page = client.get("/lowongan/profil/")
    assert page.status_code == 200
    assert participant.applicant.nik not in page.content.decode()

    refused = client.post("/lowongan/profil/", {"summary": "Admin", "platforms": [str(karirku.pk)]})
    assert refused.status_code == 200
    assert not JobSharingConsent.objects.exists()

    done = client.post(
        "/lowongan/profil/",
        {"summary": "Admin", "platforms": [str(karirku.pk), str(loker.pk)], "consent": "on"},
    )
    assert done.status_code == 302
    profile = JobProfile.objects.get(participant=participant)
    assert profile.summary == "Admin"
    assert sorted(JobSharingConsent.objects.values_list("platform__slug", "text_version")) == [
        ("karirku", "2026-12"),
        ("lokerpintar", "2026-12"),
    ]

    # Untick one platform: its consent ends now, the other stays (no new consent tick needed).
    client.post("/lowongan/profil/", {"summary": "Admin", "platforms": [str(loker.pk)]})
    active = JobSharingConsent.objects.filter(withdrawn_at__isnull=True)
    assert list(active.values_list("platform__slug", flat=True)) == ["lokerpintar"]
    assert JobSharingConsent.objects.get(platform=karirku).withdrawn_at is not None

    client.post("/lowongan/berhenti-berbagi/")
    assert not JobSharingConsent.objects.filter(withdrawn_at__isnull=True).exists()
    assert [e.action for e in audit_entries_for(profile)] == ["employment.consent_changed"] * 3


def test_a_participant_without_a_completed_training_cannot_share(client):
    job_platform("karirku")
    participant = participant_with_balance()
    client.force_login(participant.applicant.user)
    page = client.get("/lowongan/")
    assert page.status_code == 200
    assert b"data-not-eligible" in page.content
    assert client.get("/lowongan/profil/").status_code == 302
    assert not JobProfile.objects.exists()
    # An applicant who is no participant at all gets the same page, never an error.
    client.force_login(ApplicantFactory().user)
    assert client.get("/lowongan/").status_code == 200


def test_openings_page_shows_only_platforms_shared_with_now_in_constant_queries(client):
    karirku, loker = job_platform("karirku"), job_platform("lokerpintar")
    profile = sharing_profile(karirku, loker)
    client.force_login(profile.participant.applicant.user)

    def send(platform, n):
        services.opening_receive(
            platform=platform,
            public_id=profile.public_id,
            external_id=f"{platform.slug}-{n}",
            title=f"Lowongan {platform.slug} {n}",
            company="PT Contoh",
            url=f"https://{platform.slug}.example.id/{n}",
        )

    send(karirku, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/lowongan/").status_code == 200
    send(karirku, 2)
    send(loker, 3)
    with CaptureQueriesContext(connection) as three:
        page = client.get("/lowongan/").content.decode()
    assert len(one) == len(three)
    assert page.count("data-opening") == 3
    services.job_sharing_set(profile=profile, platform_ids={karirku.pk}, consent_given=False, actor=None)
    page = client.get("/lowongan/").content.decode()
    assert page.count("data-opening") == 2 and "lokerpintar" not in page


def test_the_menu_links_to_lowongan_for_participants(client):
    participant = participant_with_balance()
    client.force_login(participant.applicant.user)
    assert 'href="/lowongan/"' in client.get("/dasbor/").content.decode()


def test_programme_dashboard_shows_job_outcomes(client):
    from django.contrib.auth.models import Group

    from prakerja.roles import Role
    from tests.factories import UserFactory

    karirku = job_platform("karirku")
    profile = sharing_profile(karirku)
    import datetime

    services.outcome_report(
        platform=karirku,
        public_id=profile.public_id,
        kind="hired",
        occurred_on=datetime.date(2026, 11, 2),
        job_reference="J-9",
    )
    officer = UserFactory(email="petugas@example.id", is_staff=True)
    officer.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    client.force_login(officer)
    page = client.get("/admin/dasbor-program/").content.decode()
    assert 'id="job-outcomes"' in page
    assert "data-jobs-hired>1<" in page and "data-jobs-shared>1<" in page


def test_officers_issue_job_platform_credentials_after_reauthentication(client):
    from django.contrib.auth.models import Group

    from employment.models import JobPlatformCredential
    from prakerja.roles import Role
    from tests.factories import UserFactory, reauthenticate

    platform = job_platform("karirku")
    officer = UserFactory(email="petugas@example.id", is_staff=True)
    officer.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    client.force_login(officer)
    data = {"action": "issue_credentials", "_selected_action": [platform.pk]}
    response = client.post("/admin/employment/jobplatform/", data)
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not JobPlatformCredential.objects.exists()
    reauthenticate(client)
    response = client.post("/admin/employment/jobplatform/", data)
    assert response.status_code == 200
    credential = JobPlatformCredential.objects.get()
    assert credential.key_id in response.content.decode()
    assert credential.secret_encrypted not in response.content.decode()
    assert sorted(e.action for e in audit_entries_for(platform)) == [
        "employment.platform.created",
        "employment.platform.credential_issued",
    ]
