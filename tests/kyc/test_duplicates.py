"""The 1:N duplicate-face index, and the races it must win on PostgreSQL."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kyc.enums import CaseStatus, Decision
from kyc.face_index import FaceIndex
from kyc.models import KycCase, KycSubmission, VerifiedFace
from kyc.services import (
    KycError,
    UploadNotAllowed,
    kyc_case_decide,
    kyc_submission_create,
    kyc_submission_verify,
)
from prakerja.roles import Role
from tests.factories import ApplicantFactory, UserFactory
from tests.kyc.factories import (
    TINY_JPEG,
    KycCaseFactory,
    KycSubmissionFactory,
    random_encoding,
    verified_applicant,
)


def _random_faces(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.09, (count, 128)).astype(np.float32)


def test_search_equals_brute_force():
    faces = _random_faces(5000)
    queries = faces[[10, 2000, 4999]] + np.random.default_rng(1).normal(0, 0.02, (3, 128)).astype(np.float32)
    index = FaceIndex()
    for start in range(0, 5000, 700):  # several appends, growing the matrix
        end = min(start + 700, 5000)
        index.add(np.arange(start, end) + 1, np.arange(start, end) + 100_000, faces[start:end])
    assert len(index) == 5000
    for query in queries:
        exact = np.linalg.norm(faces.astype(np.float64) - query.astype(np.float64), axis=1)
        expected = [
            (int(i) + 1, pytest.approx(float(exact[i]), abs=1e-5))
            for i in np.argsort(exact)
            if exact[i] <= 0.4
        ]
        found = index.search(query, threshold=0.4)
        assert len(expected) == 1
        assert [(match.face_id, match.distance) for match in found] == expected


def test_search_excludes_the_applicant_and_limits_results():
    base = _random_faces(1)[0]
    index = FaceIndex()
    index.add([1, 2, 3], [50, 51, 52], np.stack([base, base + 0.001, base + 0.002]))
    assert [m.applicant_id for m in index.search(base, threshold=0.4, exclude_applicant_id=50)] == [51, 52]
    assert [m.face_id for m in index.search(base, threshold=0.4, limit=1)] == [1]
    assert FaceIndex().search(base, threshold=0.4) == []


@pytest.mark.django_db
def test_refresh_loads_only_rows_added_since_and_reloads_to_drop_removed_ones():
    first = [verified_applicant(random_encoding(seed)) for seed in range(3)]
    index = FaceIndex()
    with CaptureQueriesContext(connection) as queries:
        assert index.refresh() == 3
    assert len(queries) == 1
    verified_applicant(random_encoding(9))
    assert index.refresh() == 1
    assert index.refresh() == 0
    assert len(index) == 4
    VerifiedFace.objects.filter(applicant=first[0]).delete()
    assert index.refresh(reload_after=3600) == 0
    assert len(index) == 4
    assert index.refresh(reload_after=0) == 3
    assert len(index) == 3


# --- Races (PostgreSQL, one thread per worker) ---------------------------------------------------


def _in_threads(*targets):
    from django.db import connections

    results: list = [None] * len(targets)

    def run(position, target):
        try:
            results[position] = target()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[position] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
def test_two_lookalikes_verified_at_the_same_moment_one_wins(transactional_db, monkeypatch, encodings):
    from kyc import engine
    from kyc.tasks import kyc_submission_verify_task

    monkeypatch.setattr(
        kyc_submission_verify_task, "delay", lambda *args: None
    )  # the threads are the workers
    selfies = {TINY_JPEG + b"A": encodings("obama", 1), TINY_JPEG + b"B": encodings("obama", 2)}
    submissions = [
        kyc_submission_create(applicant=ApplicantFactory(), selfie_jpeg=selfie, ktp_jpeg=TINY_JPEG)
        for selfie in selfies
    ]
    barrier = threading.Barrier(2)

    def fake_match(selfie, ktp, *, config):
        barrier.wait(timeout=20)  # both workers finish the CPU work together, neither sees the other yet
        return engine.MatchResult(
            verdict="verified", distance=0.3, faces_selfie=1, faces_ktp=1, selfie_encoding=selfies[selfie]
        )

    monkeypatch.setattr(engine, "pair_match", fake_match)
    results = _in_threads(*[lambda s=s: kyc_submission_verify(submission_id=s.id) for s in submissions])
    assert sorted(result.case_status for result in results) == ["review", "verified"]
    assert sorted(KycCase.objects.values_list("status", flat=True)) == [
        CaseStatus.REVIEW,
        CaseStatus.VERIFIED,
    ]
    assert VerifiedFace.objects.count() == 1
    loser = next(r for r in results if r.case_status == "review")
    assert KycSubmission.objects.get(id=loser.submission_id).duplicate_candidates.count() == 1


@pytest.mark.postgres
def test_double_submit_creates_one_submission(transactional_db, monkeypatch):
    from kyc.tasks import kyc_submission_verify_task

    # Not verified here: eagerly, the first (unreadable) upload would be rejected before the
    # second thread takes the lock, and a rejected upload may rightly be sent again.
    monkeypatch.setattr(kyc_submission_verify_task, "delay", lambda submission_id: None)
    applicant = ApplicantFactory()
    barrier = threading.Barrier(2)

    def upload():
        barrier.wait(timeout=20)
        return kyc_submission_create(applicant=applicant, selfie_jpeg=TINY_JPEG, ktp_jpeg=TINY_JPEG)

    results = _in_threads(upload, upload)
    assert sorted(type(result).__name__ for result in results) == ["KycSubmission", "UploadNotAllowed"]
    assert isinstance(next(r for r in results if not isinstance(r, KycSubmission)), UploadNotAllowed)
    assert KycSubmission.objects.filter(case__applicant=applicant).count() == 1


@pytest.mark.postgres
def test_two_reviewers_deciding_at_once_one_wins(transactional_db):
    case = KycCaseFactory(status=CaseStatus.REVIEW)
    submission = KycSubmissionFactory(case=case, selfie_encoding=random_encoding(5).tobytes())
    KycCase.objects.filter(id=case.id).update(latest_submission=submission)
    group = Group.objects.get(name=Role.KYC_REVIEWER)
    reviewers = [UserFactory(is_staff=True), UserFactory(is_staff=True)]
    for reviewer in reviewers:
        reviewer.groups.add(group)
    barrier = threading.Barrier(2)

    def decide(reviewer, decision):
        barrier.wait(timeout=20)
        return kyc_case_decide(
            case_id=case.id, reviewer=reviewer, decision=decision, reject_reason="different_person"
        )

    results = _in_threads(
        lambda: decide(reviewers[0], Decision.APPROVE), lambda: decide(reviewers[1], Decision.REJECT)
    )
    assert sorted(type(result).__name__ for result in results) == ["KycCase", "KycError"]
    assert isinstance(next(r for r in results if not isinstance(r, KycCase)), KycError)
    case.refresh_from_db()
    assert case.status in (CaseStatus.VERIFIED, CaseStatus.REJECTED)
    assert case.decided_by in reviewers
