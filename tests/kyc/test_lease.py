"""A running check holds a lease: a killed worker's check is requeued within minutes, never run twice at once."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from kyc import engine
from kyc.enums import CaseStatus, SubmissionStatus
from kyc.models import KycCase, KycSubmission
from kyc.services import kyc_submission_create, kyc_submission_verify, kyc_sweep
from kyc.services.verification import _submission_record
from tests.conftest import wait_until
from tests.factories import ApplicantFactory
from tests.kyc.factories import TINY_JPEG, random_encoding


def submit(applicant) -> KycSubmission:
    return kyc_submission_create(applicant=applicant, selfie_jpeg=TINY_JPEG, ktp_jpeg=TINY_JPEG)


def _claimed(submission, *, started, heartbeat, attempts=1) -> None:
    KycSubmission.objects.filter(id=submission.id).update(
        status=SubmissionStatus.PROCESSING,
        started_at=started,
        heartbeat_at=heartbeat,
        processing_attempts=attempts,
    )


@pytest.mark.django_db
def test_a_check_whose_lease_ran_out_is_requeued_within_minutes(
    settings, fake_engine, django_capture_on_commit_callbacks
):
    settings.KYC_LEASE_SECONDS = 120
    applicant = ApplicantFactory()
    with django_capture_on_commit_callbacks():  # the first enqueue is lost
        submission = submit(applicant)
    three_minutes_ago = timezone.now() - datetime.timedelta(minutes=3)
    _claimed(submission, started=three_minutes_ago, heartbeat=three_minutes_ago)
    fake_engine.plan("verified", distance=0.3, encoding=random_encoding(7))
    assert kyc_sweep() == {"requeued": 1, "enqueued": 1, "gave_up": 0}  # eager: the task runs here
    submission.refresh_from_db()
    assert (submission.status, submission.processing_attempts) == (SubmissionStatus.DONE, 2)
    assert KycCase.objects.get(applicant=applicant).status == CaseStatus.VERIFIED


@pytest.mark.django_db
def test_a_long_check_that_renews_its_lease_is_left_alone(settings, django_capture_on_commit_callbacks):
    settings.KYC_LEASE_SECONDS = 120
    with django_capture_on_commit_callbacks():
        submission = submit(ApplicantFactory())
    now = timezone.now()
    _claimed(
        submission, started=now - datetime.timedelta(hours=1), heartbeat=now - datetime.timedelta(seconds=20)
    )
    assert kyc_sweep(now=now) == {"requeued": 0, "enqueued": 0, "gave_up": 0}
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PROCESSING


@pytest.mark.django_db
def test_a_claim_that_lost_its_lease_records_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        submission = submit(ApplicantFactory())
    now = timezone.now()
    _claimed(submission, started=now, heartbeat=now, attempts=2)  # the sweeper gave it to a second worker
    result = engine.MatchResult(
        verdict="verified", distance=0.3, selfie_encoding=random_encoding(8), timings={"total_ms": 1.0}
    )
    stale = KycSubmission.objects.select_related("case").get(id=submission.id)
    assert _submission_record(stale, result, [], token=1) is None
    submission.refresh_from_db()
    assert (submission.status, submission.verdict) == (SubmissionStatus.PROCESSING, "")


# --- PostgreSQL: two workers, a stuck lock holder, the renewal thread -------------------------------


@pytest.fixture
def no_enqueue(monkeypatch):
    """The test's threads are the workers: uploads enqueue nothing."""
    from kyc.tasks import kyc_submission_verify_task

    monkeypatch.setattr(kyc_submission_verify_task, "delay", lambda *args: None)


@pytest.mark.postgres
def test_two_verify_calls_at_once_run_the_check_once(transactional_db, fake_engine, no_enqueue):
    submission = submit(ApplicantFactory())
    fake_engine.plan("verified", distance=0.3, encoding=random_encoding(9))
    fake_engine.plan("verified", distance=0.3, encoding=random_encoding(9))
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(kyc_submission_verify(submission_id=submission.id))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake_engine.calls == 1
    assert sorted(outcome is None for outcome in outcomes) == [False, True]
    submission.refresh_from_db()
    assert (submission.status, submission.processing_attempts) == (SubmissionStatus.DONE, 1)


@pytest.mark.postgres
def test_a_stuck_lock_holder_sends_the_check_back_to_the_queue(
    transactional_db, settings, fake_engine, monkeypatch
):
    from kyc.tasks import kyc_submission_verify_task

    settings.KYC_LOCK_TIMEOUT_MS = 200
    delay = kyc_submission_verify_task.delay
    monkeypatch.setattr(kyc_submission_verify_task, "delay", lambda *args: None)
    submission = submit(ApplicantFactory())
    locked, release = threading.Event(), threading.Event()

    def hold_the_case():
        try:
            with transaction.atomic():
                KycCase.objects.select_for_update().get(id=submission.case_id)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_case)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        fake_engine.plan("verified", distance=0.3, encoding=random_encoding(10))
        assert kyc_submission_verify(submission_id=submission.id) is None
        submission.refresh_from_db()
        assert (submission.status, submission.processing_attempts) == (SubmissionStatus.QUEUED, 1)
    finally:
        release.set()
        holder.join()
    fake_engine.plan("verified", distance=0.3, encoding=random_encoding(10))
    monkeypatch.setattr(kyc_submission_verify_task, "delay", delay)
    assert kyc_sweep() == {"requeued": 0, "enqueued": 1, "gave_up": 0}  # eager: runs again here
    submission.refresh_from_db()
    assert (submission.status, submission.processing_attempts) == (SubmissionStatus.DONE, 2)


@pytest.mark.postgres
def test_a_running_check_renews_its_lease(transactional_db, settings, monkeypatch, no_enqueue):
    settings.KYC_LEASE_SECONDS = 1  # renewed every 0.25 s
    submission = submit(ApplicantFactory())

    def slow_pair_match(selfie, ktp, *, config):
        first = KycSubmission.objects.get(id=submission.id).heartbeat_at
        wait_until(
            lambda: KycSubmission.objects.get(id=submission.id).heartbeat_at > first,
            timeout=30,
            message="the lease to be renewed",
        )
        # Meanwhile a sweep finds the lease fresh and leaves the running check alone.
        assert kyc_sweep()["requeued"] == 0
        return engine.MatchResult(
            verdict="verified", distance=0.3, selfie_encoding=random_encoding(11), timings={"total_ms": 1.0}
        )

    monkeypatch.setattr(engine, "pair_match", slow_pair_match)
    outcome = kyc_submission_verify(submission_id=submission.id)
    assert outcome is not None and outcome.verdict == "verified"
    submission.refresh_from_db()
    assert (submission.status, submission.processing_attempts) == (SubmissionStatus.DONE, 1)


# --- A real worker, killed mid-check ------------------------------------------------------------


@pytest.fixture
def short_lease(settings, monkeypatch):
    """A 2-second lease, here and in the worker process (it reads the environment when it starts)."""
    monkeypatch.setenv("KYC_LEASE_SECONDS", "2")
    settings.KYC_LEASE_SECONDS = 2


@pytest.mark.worker
def test_a_killed_workers_check_is_requeued_by_the_sweeper(short_lease, celery_worker, photo, ktp):
    import os
    import signal

    submission = kyc_submission_create(
        applicant=ApplicantFactory(), selfie_jpeg=photo("obama", 1), ktp_jpeg=ktp("obama", 2)
    )
    wait_until(
        lambda: KycSubmission.objects.filter(id=submission.id, status=SubmissionStatus.PROCESSING).exists(),
        interval=0.02,
        message=f"the worker to claim the submission\n{celery_worker.output}",
    )
    os.kill(celery_worker.process.pid, signal.SIGKILL)  # mid-check: the face models are still loading
    celery_worker.process.wait()
    submission.refresh_from_db()
    assert (submission.status, submission.processing_attempts) == (SubmissionStatus.PROCESSING, 1)
    # The old rule waited 15 minutes; with the lease the next sweeps after 2 s requeue it.
    wait_until(lambda: kyc_sweep()["requeued"] == 1, interval=0.5, message="the sweeper to requeue the check")
    submission.refresh_from_db()
    assert (submission.status, submission.processing_attempts) == (SubmissionStatus.QUEUED, 1)
