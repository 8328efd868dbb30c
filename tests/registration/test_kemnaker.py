"""Kemnaker approval of offline registrations: send, two-person rule, decisions, SMS, the rule switch."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cohorts.services import programme_settings_set
from prakerja.models import AuditEntry, Notification
from registration import kemnaker
from registration.enums import Channel, ItemDecision, KemnakerStatus, SubmissionStatus
from registration.models import Applicant, OfflineSubmission, OfflineSubmissionItem
from registration.services import applicant_eligibility, applicant_register_offline
from tests.factories import ApplicantFactory
from tests.registration.factories import disnaker_user, kemnaker_user, profile_input

pytestmark = pytest.mark.django_db


def _offline(staff, serial: int, phone: str, **overrides) -> Applicant:
    data = profile_input(serial=500 + serial, kk_number=f"32750101011{serial:05d}", **overrides)
    return applicant_register_offline(staff_user=staff, data=data, phone=phone)


@pytest.fixture
def disnaker():
    return disnaker_user("32", email="disnaker@example.id")


@pytest.fixture
def people(disnaker):
    return [_offline(disnaker, serial, f"+6281300000{serial:03d}") for serial in (1, 2, 3)]


def test_an_offline_registration_waits_for_kemnaker_and_cannot_join_a_wave(people):
    applicant = people[0]
    applicant.refresh_from_db()
    assert (applicant.kemnaker_status, applicant.kemnaker_hold) == (KemnakerStatus.WAITING, True)
    assert "kemnaker_pending" in applicant_eligibility(applicant=applicant).codes
    online = ApplicantFactory()
    assert (online.kemnaker_status, online.kemnaker_hold) == ("", False)
    assert "kemnaker_pending" not in applicant_eligibility(applicant=online).codes


def test_with_the_rule_switched_off_offline_registrations_go_straight_into_the_pool(disnaker):
    programme_settings_set(actor=None, offline_approval_required=False)
    applicant = _offline(disnaker, 7, "+6281300000777")
    applicant.refresh_from_db()
    assert (applicant.kemnaker_status, applicant.kemnaker_hold) == ("", False)
    assert "kemnaker_pending" not in applicant_eligibility(applicant=applicant).codes
    with pytest.raises(kemnaker.SubmissionError) as refused:
        kemnaker.offline_submission_send(staff_user=disnaker)
    assert refused.value.code == "not_required"


def test_switching_the_rule_lifts_and_sets_the_holds_of_waiting_people_only(people):
    approved = people[2]
    Applicant.objects.filter(pk=approved.pk).update(
        kemnaker_status=KemnakerStatus.APPROVED, kemnaker_hold=False
    )
    programme_settings_set(actor=None, offline_approval_required=False)
    assert not Applicant.objects.filter(kemnaker_hold=True).exists()
    programme_settings_set(actor=None, offline_approval_required=True)
    held = set(Applicant.objects.filter(kemnaker_hold=True).values_list("pk", flat=True))
    assert held == {people[0].pk, people[1].pk}
    assert AuditEntry.objects.filter(action="registration.kemnaker_rule_applied").count() == 2


def test_disnaker_sends_its_province_only_and_each_person_once(people, disnaker):
    other = disnaker_user("31", email="disnaker.dki@example.id")
    jakarta = _offline(other, 9, "+6281300000999", district_code="31.71.01")
    submission = kemnaker.offline_submission_send(staff_user=disnaker)
    assert submission.province_id == "32" and submission.status == SubmissionStatus.SENT
    assert set(submission.items.values_list("applicant_id", flat=True)) == {p.pk for p in people}
    assert submission.person_count == 3
    with pytest.raises(kemnaker.SubmissionError) as refused:
        kemnaker.offline_submission_send(staff_user=disnaker)
    assert refused.value.code == "empty"
    assert not OfflineSubmissionItem.objects.filter(applicant=jakarta).exists()
    entry = AuditEntry.objects.get(action="registration.kemnaker_submission_sent")
    assert entry.data["people"] == 3 and entry.data["province"] == "32"


def test_the_review_shows_row_issues_and_duplicates_across_provinces(people, disnaker):
    twin = ApplicantFactory(district_code="31.71.01", phone=people[0].phone, phone_verified_at=None)
    Applicant.objects.filter(pk=people[1].pk).update(civil_status="verified")
    Applicant.objects.filter(pk=people[2].pk).update(civil_status="mismatch")
    submission = kemnaker.offline_submission_send(staff_user=disnaker)
    item = submission.items.get(applicant=people[0])
    assert item.duplicates == [
        {"kind": "phone", "province": twin.province.name, "channel": Channel.ONLINE, "applicant_id": twin.pk}
    ]
    assert submission.items.get(applicant=people[1]).duplicates == []
    # Row issues: a NIK still being checked, one that does not match; none for a verified one.
    issues = {item.applicant_id: item.issues for item in submission.items.all()}
    assert issues == {
        people[0].pk: ["civil_not_verified"],
        people[1].pk: [],
        people[2].pk: ["civil_mismatch"],
    }


def test_two_person_rule_the_sender_cannot_decide_and_a_disnaker_cannot_either(people, disnaker):
    submission = kemnaker.offline_submission_send(staff_user=disnaker)
    with pytest.raises(kemnaker.SubmissionError) as refused:
        kemnaker.offline_submission_decide(submission_id=submission.pk, officer=disnaker, returns={})
    assert refused.value.code == "not_kemnaker"
    # A sender who is also a Kemnaker officer is still refused.
    from django.contrib.auth.models import Group

    disnaker.groups.add(Group.objects.get(name="Kemnaker Officer"))
    disnaker = type(disnaker).objects.get(pk=disnaker.pk)
    with pytest.raises(kemnaker.SubmissionError) as refused:
        kemnaker.offline_submission_decide(submission_id=submission.pk, officer=disnaker, returns={})
    assert refused.value.code == "sender"
    refusals = AuditEntry.objects.filter(action="registration.kemnaker_decision_refused")
    assert sorted(e.data["reason"] for e in refusals) == ["not_kemnaker", "sender"]
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SENT


def test_kemnaker_approves_some_and_returns_one_each_told_by_sms_in_their_language(people, disnaker):
    english = people[1].user
    english.language = "en"
    english.save(update_fields=["language"])
    submission = kemnaker.offline_submission_send(staff_user=disnaker)
    officer = kemnaker_user()
    returned_item = submission.items.get(applicant=people[0])
    submission = kemnaker.offline_submission_decide(
        submission_id=submission.pk,
        officer=officer,
        returns={returned_item.pk: ("documents", "Bawa formulir bertanda tangan")},
    )
    assert (submission.status, submission.approved_count, submission.returned_count) == (
        SubmissionStatus.PARTLY_APPROVED,
        2,
        1,
    )
    assert submission.decided_by == officer
    returned, english_person, approved = (Applicant.objects.get(pk=p.pk) for p in people)
    assert (returned.kemnaker_status, returned.kemnaker_hold) == (KemnakerStatus.RETURNED, True)
    assert "kemnaker_pending" in applicant_eligibility(applicant=returned).codes
    assert (approved.kemnaker_status, approved.kemnaker_hold) == (KemnakerStatus.APPROVED, False)
    assert "kemnaker_pending" not in applicant_eligibility(applicant=approved).codes

    sms = {n.recipient: n.body for n in Notification.objects.filter(channel="sms", body__contains="Kemnaker")}
    assert "dikembalikan oleh Kemnaker" in sms[returned.phone]
    assert "Bawa formulir bertanda tangan" in sms[returned.phone]
    assert "approved your registration" in sms[english_person.phone]
    assert "menyetujui pendaftaran" in sms[approved.phone]
    entry = AuditEntry.objects.get(action="registration.kemnaker_submission_decided")
    assert entry.data["approved"] == 2 and entry.data["returned"][0]["reason"] == "documents"

    with pytest.raises(kemnaker.SubmissionError) as again:
        kemnaker.offline_submission_decide(submission_id=submission.pk, officer=officer, returns={})
    assert again.value.code == "decided"

    # Corrected, the returned person goes in the next submission; the approved ones do not.
    resent = kemnaker.offline_submission_send(staff_user=disnaker)
    assert list(resent.items.values_list("applicant_id", flat=True)) == [returned.pk]
    kemnaker.offline_submission_decide(submission_id=resent.pk, officer=officer, returns={})
    returned.refresh_from_db()
    assert (returned.kemnaker_status, returned.kemnaker_hold) == (KemnakerStatus.APPROVED, False)


def test_a_return_needs_a_known_reason_and_other_needs_a_note(people, disnaker):
    submission = kemnaker.offline_submission_send(staff_user=disnaker)
    item = submission.items.first()
    officer = kemnaker_user()
    for returns, code in (({item.pk: ("nonsense", "")}, "reason"), ({item.pk: ("other", " ")}, "note")):
        with pytest.raises(kemnaker.SubmissionError) as refused:
            kemnaker.offline_submission_decide(submission_id=submission.pk, officer=officer, returns=returns)
        assert refused.value.code == code
    assert submission.items.filter(decision=ItemDecision.PENDING).count() == 3


def test_pages_disnaker_sends_and_sees_the_state_kemnaker_decides(client, people, disnaker):
    client.force_login(disnaker)
    page = client.get(reverse("registration:staff_submissions"))
    assert page.status_code == 200
    assert "Kemnaker menyetujuinya" in page.content.decode()  # the rule in force, in Indonesian
    response = client.post(reverse("registration:staff_submission_send"))
    submission = OfflineSubmission.objects.get()
    assert response["Location"] == reverse("registration:staff_submission_detail", args=[submission.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "Menunggu Kemnaker" in detail and people[0].masked_nik in detail and people[0].nik not in detail
    assert client.get(reverse("registration:kemnaker_queue")).status_code == 403

    officer = kemnaker_user()
    client.force_login(officer)
    review = client.get(reverse("registration:kemnaker_review", args=[submission.pk])).content.decode()
    assert "Kemungkinan ganda" in review and people[0].nik not in review
    item = submission.items.get(applicant=people[1])
    response = client.post(
        reverse("registration:kemnaker_review", args=[submission.pk]),
        {f"reason-{item.pk}": "phone", f"note-{item.pk}": ""},
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PARTLY_APPROVED and submission.decided_at <= timezone.now()
    client.force_login(disnaker)
    detail = client.get(
        reverse("registration:staff_submission_detail", args=[submission.pk])
    ).content.decode()
    assert "Sebagian disetujui" in detail and "Nomor HP tidak ada atau salah" in detail


@pytest.mark.postgres
def test_a_returned_submission_never_enters_a_wave(disnaker):
    """PostgreSQL: the selection's SQL keeps returned people out; the approved one is drawn."""
    from cohorts import services as cohort_services
    from cohorts.enums import ApplicationStatus, RunKind, WaveStatus
    from cohorts.models import Application
    from tests.cohorts.factories import WaveFactory, pool, programme

    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=10)
    people = pool(wave, district_code="32.75.01", count=3)
    # Registered offline while the rule was in force, then sent to Kemnaker.
    Applicant.objects.filter(pk__in=[p.pk for p in people]).update(
        channel=Channel.OFFLINE, kemnaker_status=KemnakerStatus.WAITING, kemnaker_hold=True
    )
    submission = kemnaker.offline_submission_send(staff_user=disnaker)
    items = {item.applicant_id: item.pk for item in submission.items.all()}
    kemnaker.offline_submission_decide(
        submission_id=submission.pk,
        officer=kemnaker_user(),
        returns={items[people[0].pk]: ("duplicate", ""), items[people[1].pk]: ("civil_data", "")},
    )
    run = cohort_services.selection_run_request(wave=wave, kind=RunKind.SELECTION, seed="benih")
    cohort_services.selection_run_execute(run_id=run.pk)
    result = dict(Application.objects.filter(wave=wave).values_list("applicant_id", "status"))
    reasons = dict(Application.objects.filter(wave=wave).values_list("applicant_id", "ineligible_reason"))
    assert result == {
        people[0].pk: ApplicationStatus.INELIGIBLE,
        people[1].pk: ApplicationStatus.INELIGIBLE,
        people[2].pk: ApplicationStatus.SELECTED,
    }
    assert reasons[people[0].pk] == reasons[people[1].pk] == "kemnaker_pending"


def test_the_dashboard_says_the_person_waits_for_kemnaker(client):
    from tests.cohorts.factories import WaveFactory, programme, verified_applicant

    programme()
    WaveFactory()
    applicant = verified_applicant()
    Applicant.objects.filter(pk=applicant.pk).update(
        channel=Channel.OFFLINE, kemnaker_status=KemnakerStatus.WAITING, kemnaker_hold=True
    )
    client.force_login(applicant.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "menunggu persetujuan Kementerian Ketenagakerjaan (Kemnaker)" in page
