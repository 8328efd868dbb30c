"""Verification in the worker: recording, duplicates, idempotency, the sweeper, retention."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from kyc.enums import CaseStatus, ReviewReason, SubmissionStatus
from kyc.models import DuplicateCandidate, KycCase, KycSubmission, VerifiedFace
from kyc.selectors import kyc_is_verified
from kyc.services import (
    MAX_PROCESSING_ATTEMPTS,
    UploadNotAllowed,
    draft_name,
    draft_save,
    kyc_photos_purge,
    kyc_submission_create,
    kyc_submission_verify,
    kyc_sweep,
)
from registration.models import Applicant
from tests.factories import ApplicantFactory
from tests.kyc.factories import (
    TINY_JPEG,
    KycCaseFactory,
    KycSubmissionFactory,
    random_encoding,
    verified_applicant,
)

pytestmark = pytest.mark.django_db


def submit(applicant) -> KycSubmission:
    return kyc_submission_create(applicant=applicant, selfie_jpeg=TINY_JPEG, ktp_jpeg=TINY_JPEG)


def test_verifying_twice_changes_nothing(fake_engine):
    applicant = ApplicantFactory()
    submission = submit(applicant)
    fake_engine.plan("verified", distance=0.31, encoding=random_encoding(1))
    first = kyc_submission_verify(submission_id=submission.id)
    assert (first.case_status, first.verdict) == ("verified", "verified")
    assert kyc_submission_verify(submission_id=submission.id) is None
    assert fake_engine.calls == 1
    case = KycCase.objects.get(applicant=applicant)
    assert case.attempts_used == 1
    assert VerifiedFace.objects.count() == 1


def test_verify_task_for_a_missing_submission_logs_and_returns(caplog):
    from kyc.tasks import kyc_submission_verify_task

    kyc_submission_verify_task.delay(987654)
    assert "submission 987654 is gone" in caplog.text


def test_borderline_distance_goes_to_review(fake_engine):
    applicant = ApplicantFactory()
    submission = submit(applicant)
    fake_engine.plan("review", distance=0.5, encoding=random_encoding(2))
    kyc_submission_verify(submission_id=submission.id)
    case = KycCase.objects.get(applicant=applicant)
    assert (case.status, case.review_reason) == (CaseStatus.REVIEW, ReviewReason.BORDERLINE)
    assert not kyc_is_verified(applicant)
    assert not VerifiedFace.objects.exists()


def test_duplicate_face_of_a_verified_applicant_is_flagged_never_approved(fake_engine, encodings):
    first = verified_applicant(encodings("obama", 1))
    second = ApplicantFactory()
    submission = submit(second)
    # Its own KTP matches: the system would verify it, but the face is already verified under another NIK.
    fake_engine.plan("verified", distance=0.2, encoding=encodings("obama", 2))
    kyc_submission_verify(submission_id=submission.id)
    case = KycCase.objects.get(applicant=second)
    submission.refresh_from_db()
    assert (case.status, case.review_reason) == (CaseStatus.REVIEW, ReviewReason.DUPLICATE)
    assert (submission.system_verdict, submission.verdict) == ("review", "review")
    candidate = DuplicateCandidate.objects.get(submission=submission)
    assert candidate.other_applicant == first
    assert candidate.distance == pytest.approx(0.3585, abs=0.003)
    assert submission.duplicate_distance == candidate.distance
    assert list(Applicant.objects.filter(kyc_case__status="verified")) == [first]


def test_a_different_person_is_not_a_duplicate(fake_engine, encodings):
    verified_applicant(encodings("obama", 1))
    applicant = ApplicantFactory()
    submission = submit(applicant)
    fake_engine.plan("verified", distance=0.3, encoding=encodings("biden", 1))
    kyc_submission_verify(submission_id=submission.id)
    assert KycCase.objects.get(applicant=applicant).status == CaseStatus.VERIFIED
    assert not DuplicateCandidate.objects.exists()
    assert kyc_is_verified(applicant)


def test_the_applicants_own_verified_face_is_not_a_duplicate(fake_engine, encodings):
    applicant = verified_applicant(encodings("obama", 1))
    KycCase.objects.filter(applicant=applicant).update(
        status=CaseStatus.RETRY
    )  # e.g. re-checked after a reset
    submission = submit(applicant)
    fake_engine.plan("verified", distance=0.3, encoding=encodings("obama", 2))
    kyc_submission_verify(submission_id=submission.id)
    assert KycCase.objects.get(applicant=applicant).status == CaseStatus.VERIFIED


def test_selector_and_waves_filter(fake_engine):
    verified = ApplicantFactory()
    KycCaseFactory(applicant=verified, status=CaseStatus.VERIFIED)
    pending = ApplicantFactory()
    KycCaseFactory(applicant=pending, status=CaseStatus.REVIEW)
    nothing = ApplicantFactory()
    assert [kyc_is_verified(a) for a in (verified, pending, nothing, None)] == [True, False, False, False]
    assert list(Applicant.objects.filter(kyc_case__status="verified")) == [verified]


def test_upload_refused_while_processing_and_when_no_attempts_left():
    applicant = ApplicantFactory()
    submit(applicant)
    with pytest.raises(UploadNotAllowed):
        submit(applicant)
    assert KycSubmission.objects.count() == 1
    KycCase.objects.filter(applicant=applicant).update(status=CaseStatus.VERIFIED)
    with pytest.raises(UploadNotAllowed, match="sudah terverifikasi"):
        submit(applicant)


def test_refused_upload_leaves_no_files():
    applicant = ApplicantFactory()
    KycCaseFactory(applicant=applicant, status=CaseStatus.VERIFIED)
    before = _stored_files()
    with pytest.raises(UploadNotAllowed):
        submit(applicant)
    assert _stored_files() == before


def _stored_files() -> set[str]:
    found = set()

    def walk(path):
        dirs, files = default_storage.listdir(path)
        found.update(f"{path}/{name}" for name in files)
        for name in dirs:
            walk(f"{path}/{name}")

    if default_storage.exists("kyc"):
        walk("kyc")
    return found


# --- The sweeper --------------------------------------------------------------------------------


def test_sweeper_requeues_work_a_dead_worker_left(fake_engine, django_capture_on_commit_callbacks):
    applicant = ApplicantFactory()
    with django_capture_on_commit_callbacks():  # the first enqueue is lost
        submission = submit(applicant)
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    KycSubmission.objects.filter(id=submission.id).update(
        status=SubmissionStatus.PROCESSING, started_at=long_ago, processing_attempts=1
    )
    fake_engine.plan("verified", distance=0.3, encoding=random_encoding(3))
    assert kyc_sweep() == {"requeued": 1, "enqueued": 1, "gave_up": 0}  # eager: the task runs here
    submission.refresh_from_db()
    assert (submission.status, submission.processing_attempts) == (SubmissionStatus.DONE, 2)
    assert KycCase.objects.get(applicant=applicant).status == CaseStatus.VERIFIED


def test_sweeper_sends_a_repeatedly_failing_check_to_a_person():
    applicant = ApplicantFactory()
    submission = submit(applicant)
    KycSubmission.objects.filter(id=submission.id).update(
        status=SubmissionStatus.PROCESSING,
        started_at=timezone.now() - datetime.timedelta(hours=1),
        processing_attempts=MAX_PROCESSING_ATTEMPTS,
    )
    assert kyc_sweep() == {"requeued": 0, "enqueued": 0, "gave_up": 1}
    case = KycCase.objects.get(applicant=applicant)
    assert (case.status, case.review_reason) == (CaseStatus.REVIEW, ReviewReason.ENGINE_ERROR)


def test_sweeper_leaves_fresh_work_alone():
    submit(ApplicantFactory())
    assert kyc_sweep() == {"requeued": 0, "enqueued": 0, "gave_up": 0}


# --- Retention ------------------------------------------------------------------------------------


def test_photos_are_deleted_after_the_retention_period(settings):
    settings.KYC_PHOTO_RETENTION_DAYS = 30
    encoding = random_encoding(4)
    applicant = verified_applicant(encoding)
    submission = KycSubmission.objects.get(case__applicant=applicant)
    names = [submission.selfie.name, submission.ktp.name]
    decided = submission.decided_at
    assert kyc_photos_purge(now=decided + datetime.timedelta(days=29)) == 0
    assert all(default_storage.exists(name) for name in names)
    assert kyc_photos_purge(now=decided + datetime.timedelta(days=31)) == 1
    submission.refresh_from_db()
    assert (submission.selfie.name, submission.ktp.name) == ("", "")
    assert submission.photos_deleted_at == decided + datetime.timedelta(days=31)
    assert not any(default_storage.exists(name) for name in names)
    # The encoding and the decision stay.
    assert bytes(VerifiedFace.objects.get(applicant=applicant).encoding) == encoding.tobytes()
    assert (submission.verdict, submission.distance) == ("verified", 0.35)
    assert kyc_photos_purge(now=decided + datetime.timedelta(days=60)) == 0


def test_photos_of_a_case_in_review_are_kept():
    case = KycCaseFactory(status=CaseStatus.REVIEW)
    submission = KycSubmissionFactory(case=case, decided_at=timezone.now() - datetime.timedelta(days=400))
    assert kyc_photos_purge() == 0
    submission.refresh_from_db()
    assert submission.has_photos


def test_old_upload_drafts_are_removed():
    draft_save(applicant_id=1, image="ktp", jpeg=TINY_JPEG)
    name = draft_name(applicant_id=1, image="ktp")
    kyc_photos_purge(now=timezone.now() + datetime.timedelta(hours=1))
    assert default_storage.exists(name)
    kyc_photos_purge(now=timezone.now() + datetime.timedelta(days=2))
    assert not default_storage.exists(name)


def test_periodic_jobs_are_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"kyc.sweep", "kyc.photos_purge", "kyc.face_index_update"} <= tasks
    from prakerja.celery import app

    app.loader.import_default_modules()
    assert {"kyc.sweep", "kyc.photos_purge", "kyc.submission_verify", "kyc.face_index_update"} <= set(
        app.tasks
    )
