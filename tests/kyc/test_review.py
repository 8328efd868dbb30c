"""Officers: the review queue, decisions, audit, and who may see the photos."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kyc.enums import CaseStatus, Decision, ReviewReason
from kyc.models import DuplicateCandidate, KycCase, VerifiedFace, encoding_to_bytes
from kyc.services import KycError, kyc_case_decide
from prakerja.audit import audit_entries_for
from prakerja.models import Notification
from prakerja.roles import Role
from tests.factories import ApplicantFactory, UserFactory
from tests.kyc.factories import (
    TINY_JPEG,
    KycCaseFactory,
    KycSubmissionFactory,
    random_encoding,
    verified_applicant,
)

pytestmark = pytest.mark.django_db


def officer(role: str | None, **fields):
    user = UserFactory(is_staff=role is not None, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def review_case(*, reason=ReviewReason.BORDERLINE, distance=0.5, encoding=True, applicant=None):
    case = KycCaseFactory(
        status=CaseStatus.REVIEW,
        review_reason=reason,
        attempts_used=1,
        **({"applicant": applicant} if applicant else {}),
    )
    submission = KycSubmissionFactory(
        case=case,
        number=1,
        system_verdict="review",
        verdict="review",
        distance=distance,
        selfie_encoding=encoding_to_bytes(random_encoding(case.id)) if encoding else None,
    )
    KycCase.objects.filter(id=case.id).update(latest_submission=submission)
    case.refresh_from_db()
    return case


@pytest.fixture
def reviewer():
    return officer(Role.KYC_REVIEWER, email="reviewer@prakerja.test")


def photo_urls(case):
    submission = case.latest_submission
    return [reverse("kyc:photo", args=[submission.id, image]) for image in ("selfie", "ktp")]


# --- Queue and lists --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:kyc_reviewqueuecase_changelist",
        "admin:kyc_kyccase_changelist",
        "admin:kyc_kycsubmission_changelist",
    ],
)
def test_list_views_use_the_same_queries_for_one_and_three_rows(client, reviewer, url_name):
    client.force_login(reviewer)
    review_case()
    client.get(reverse(url_name))  # warm up (content types, sessions)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse(url_name)).status_code == 200
    review_case()
    review_case()
    with CaptureQueriesContext(connection) as three:
        response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert len(three) == len(one)
    assert not any("COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in three.captured_queries)


def test_queue_holds_only_cases_in_review_oldest_first(client, reviewer):
    client.force_login(reviewer)
    older = review_case()
    newer = review_case(reason=ReviewReason.DUPLICATE)
    KycCaseFactory(status=CaseStatus.VERIFIED)
    html = client.get(reverse("admin:kyc_reviewqueuecase_changelist")).content.decode()
    assert html.count("/change/") == 2
    assert html.index(str(older.applicant)) < html.index(str(newer.applicant))
    assert "Wajah mirip pendaftar lain yang sudah terverifikasi" in html
    assert older.applicant.nik not in html  # masked NIK only


def test_review_page_shows_photos_side_by_side_and_duplicates(client, reviewer):
    other = verified_applicant(random_encoding(7))
    case = review_case(reason=ReviewReason.DUPLICATE, distance=0.31)
    face = VerifiedFace.objects.get(applicant=other)
    DuplicateCandidate.objects.create(
        submission=case.latest_submission, other_applicant=other, other_face=face, distance=0.2871
    )
    client.force_login(reviewer)
    html = client.get(reverse("admin:kyc_kyccase_change", args=[case.id])).content.decode()
    for url in photo_urls(case):
        assert f'src="{url}"' in html
    assert f'src="{reverse("kyc:photo", args=[face.submission_id, "selfie"])}"' in html
    assert "0,287" in html  # Indonesian decimal comma
    assert "0,310" in html
    assert case.applicant.masked_nik in html
    assert case.applicant.nik not in html
    assert 'name="decision"' in html


# --- Decisions ---------------------------------------------------------------------------------


def test_reviewer_approves_a_case(client, reviewer):
    case = review_case()
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:kyc_kyccase_change", args=[case.id]), {"decision": "approve", "note": "Sama orangnya."}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decided_by, case.decision_note) == (
        CaseStatus.VERIFIED,
        reviewer,
        "Sama orangnya.",
    )
    submission = case.latest_submission
    assert (submission.verdict, submission.system_verdict, submission.decided_by) == (
        "verified",
        "review",
        reviewer,
    )
    assert VerifiedFace.objects.get(applicant=case.applicant).submission == submission
    entry = audit_entries_for(case).get()
    assert (entry.actor, entry.action) == (reviewer, "kyc.case_approve")
    assert entry.data == {
        "submission": submission.id,
        "system_verdict": "review",
        "distance": 0.5,
        "review_reason": "borderline",
        "duplicates": [],
        "reject_reason": "",
        "note": "Sama orangnya.",
    }
    assert Notification.objects.filter(user=case.applicant.user, channel="email").get().subject == (
        "[Prakerja] Identitas Anda terverifikasi"
    )


def test_reject_needs_a_reason_and_is_shown_to_the_applicant(client, reviewer):
    case = review_case()
    client.force_login(reviewer)
    url = reverse("admin:kyc_kyccase_change", args=[case.id])
    html = client.post(url, {"decision": "reject"}).content.decode()
    assert "Pilih alasan penolakan kasus ini." in html
    assert KycCase.objects.get(id=case.id).status == CaseStatus.REVIEW
    client.post(url, {"decision": "reject", "reject_reason": "document", "note": "KTP hasil edit."})
    case.refresh_from_db()
    assert (case.status, case.reject_reason) == (CaseStatus.REJECTED, "document")
    assert audit_entries_for(case).get().action == "kyc.case_reject"
    client.force_login(case.applicant.user)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "foto tersebut bukan KTP asli yang terbaca jelas" in dashboard
    assert "KTP hasil edit" not in dashboard


def test_asking_for_new_photos_grants_one_more_attempt(client, reviewer):
    case = review_case(reason=ReviewReason.ATTEMPTS_EXHAUSTED)
    KycCase.objects.filter(id=case.id).update(attempts_used=3)
    kyc_case_decide(case_id=case.id, reviewer=reviewer, decision=Decision.RETRY, note="Foto gelap")
    case.refresh_from_db()
    assert (case.status, case.extra_attempts, case.attempts_left) == (CaseStatus.RETRY, 1, 1)
    client.force_login(case.applicant.user)
    html = client.get("/kyc/").content.decode()
    assert "Petugas telah memeriksa foto Anda dan meminta Anda mengambil foto baru." in html
    assert "Ini percobaan ke-4 dari 4." in html


def test_a_case_is_decided_only_once(reviewer):
    case = review_case()
    kyc_case_decide(case_id=case.id, reviewer=reviewer, decision=Decision.APPROVE)
    with pytest.raises(KycError, match="tidak lagi menunggu pemeriksaan"):
        kyc_case_decide(
            case_id=case.id, reviewer=reviewer, decision=Decision.REJECT, reject_reason="other", note="x"
        )
    assert audit_entries_for(case).count() == 1


def test_a_selfie_without_a_face_cannot_be_approved(reviewer):
    case = review_case(reason=ReviewReason.ATTEMPTS_EXHAUSTED, encoding=False)
    with pytest.raises(KycError, match="tidak memuat wajah yang dapat dipakai"):
        kyc_case_decide(case_id=case.id, reviewer=reviewer, decision=Decision.APPROVE)
    assert KycCase.objects.get(id=case.id).status == CaseStatus.REVIEW


# --- Permissions: what must not leak -------------------------------------------------------------


def test_reviewer_fetches_a_photo_privately(client, reviewer):
    case = review_case()
    client.force_login(reviewer)
    for url in photo_urls(case):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert set(response["Cache-Control"].split(", ")) == {
            "private",
            "no-store",
            "max-age=0",
            "no-cache",
            "must-revalidate",
        }
        assert b"".join(response.streaming_content) == TINY_JPEG


@pytest.mark.parametrize(
    "role", [None, Role.PROGRAMME_OFFICER, Role.FINANCE_OFFICER, Role.DISNAKER_STAFF, Role.PLATFORM]
)
def test_nobody_else_can_fetch_a_photo(client, role):
    case = review_case()
    user = officer(role)
    client.force_login(user)
    for url in photo_urls(case):
        response = client.get(url)
        assert response.status_code == 403
        assert TINY_JPEG not in response.content


def test_applicant_cannot_fetch_even_their_own_photo(client):
    case = review_case()
    client.force_login(case.applicant.user)
    for url in photo_urls(case):
        assert client.get(url).status_code == 403


def test_anonymous_visitor_is_sent_to_login(client):
    case = review_case()
    for url in photo_urls(case):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_photos_are_not_under_media_or_static(client, reviewer, settings):
    case = review_case()
    client.force_login(reviewer)
    name = case.latest_submission.selfie.name
    assert client.get(settings.MEDIA_URL + name).status_code == 404
    assert client.get(settings.STATIC_URL + name).status_code == 404
    assert not str(settings.PRIVATE_MEDIA_ROOT).startswith(str(settings.STATIC_ROOT))


def test_programme_officer_sees_the_case_but_no_photos_and_cannot_decide(client):
    case = review_case()
    user = officer(Role.PROGRAMME_OFFICER)
    client.force_login(user)
    url = reverse("admin:kyc_kyccase_change", args=[case.id])
    html = client.get(url).content.decode()
    assert "Foto hanya ditampilkan kepada Pemeriksa KYC." in html
    for photo_url in photo_urls(case):
        assert photo_url not in html
    assert 'name="decision"' not in html
    assert client.post(url, {"decision": "approve"}).status_code == 403
    assert KycCase.objects.get(id=case.id).status == CaseStatus.REVIEW


def test_decision_service_checks_the_permission():
    case = review_case()
    with pytest.raises(Exception, match="KYC review permission required"):
        kyc_case_decide(case_id=case.id, reviewer=officer(Role.PROGRAMME_OFFICER), decision=Decision.APPROVE)


def test_applicant_cannot_open_the_console(client):
    case = review_case()
    client.force_login(ApplicantFactory().user)
    response = client.get(reverse("admin:kyc_kyccase_change", args=[case.id]))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_submission_record_page_shows_what_the_system_measured(client, reviewer):
    case = review_case()
    KycSubmission = case.latest_submission.__class__
    KycSubmission.objects.filter(id=case.latest_submission_id).update(
        timings={"total_ms": 312.5},
        model_name="dlib_face_recognition_resnet_model_v1",
        model_version="engine 1",
    )
    client.force_login(reviewer)
    html = client.get(
        reverse("admin:kyc_kycsubmission_change", args=[case.latest_submission_id])
    ).content.decode()
    assert "dlib_face_recognition_resnet_model_v1" in html
    assert "312.5" in html
    assert "sistem" in html  # decided by the system


def test_cases_are_found_by_exact_nik(client, reviewer):
    wanted = review_case()
    review_case()
    client.force_login(reviewer)
    html = client.get(reverse("admin:kyc_kyccase_changelist"), {"q": wanted.applicant.nik}).content.decode()
    assert html.count("/change/") == 1
    assert wanted.applicant.masked_nik in html
