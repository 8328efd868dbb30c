"""Verification in the worker: the face check, duplicate faces, recording the result, the sweeper.

The CPU work (kyc/engine.py) runs outside any transaction; the result is
recorded in one, with a compare-and-swap on the submission's status.

One check at a time per submission: a worker claims it (``queued ->
processing``, ``processing_attempts + 1``: that number is the claim's token)
and holds a lease, ``heartbeat_at``, renewed by a thread every quarter of
``KYC_LEASE_SECONDS`` while the check runs. A killed worker stops renewing; the
sweeper (every ``KYC_SWEEP_SECONDS``) requeues a submission whose lease is older
than ``KYC_LEASE_SECONDS``. Everything a claim writes (lease, result) is a
compare-and-swap on its token, so a worker that lost its lease (stalled past
it) records nothing over the next claim's run. Row and advisory locks are taken
with ``prakerja.db.lock_timeout(KYC_LOCK_TIMEOUT_MS)``: a stuck lock holder
gives the submission back to the queue instead of hanging the worker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import OperationalError, connections
from django.db.models import F, Q
from django.utils import timezone

from kyc import engine
from kyc.enums import ReviewReason, SubmissionStatus, Verdict
from kyc.face_index import FaceMatch, face_index, face_index_update
from kyc.models import (
    DuplicateCandidate,
    KycCase,
    KycSubmission,
    VerifiedFace,
    encoding_from_bytes,
    encoding_to_bytes,
)
from kyc.services.common import (
    MAX_PROCESSING_ATTEMPTS,
    _case_to_retry,
    _case_to_review,
    _case_to_verified,
    _duplicate_lock,
    _notify,
    _verified_face_store,
)
from prakerja.audit import audit_log
from prakerja.db import is_lock_timeout, lock_timeout

logger = logging.getLogger(__name__)


def _read(name: str) -> bytes:
    if not name:
        return b""
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        logger.warning("kyc: a photo file is missing from private storage")
        return b""


def kyc_duplicates_find(*, encoding, applicant_id: int, allow_reload: bool = True) -> list[FaceMatch]:
    """Verified faces of other applicants closer than KYC_DUPLICATE_THRESHOLD, nearest first.

    Takes candidates from the shared index (memory-mapped segments plus this
    process's exact tail), then confirms each one with the exact distance of
    the stored encoding from the database, so a quantised or stale index
    never invents or decides a duplicate.
    """
    index = face_index()
    # A full reload (seconds at a million faces) never happens under the duplicate lock.
    index.refresh(reload_after=settings.KYC_FACE_INDEX_RELOAD_SECONDS if allow_reload else None)
    threshold = settings.KYC_DUPLICATE_THRESHOLD
    hits = index.search(encoding, threshold=threshold, exclude_applicant_id=applicant_id)
    if not hits:
        return []
    query = np.asarray(encoding, dtype=np.float64)
    rows = VerifiedFace.objects.filter(id__in=[hit.face_id for hit in hits]).exclude(
        applicant_id=applicant_id
    )
    confirmed = []
    for face_id, other_id, raw in rows.values_list("id", "applicant_id", "encoding"):
        distance = float(np.linalg.norm(encoding_from_bytes(raw).astype(np.float64) - query))
        if distance <= threshold:
            confirmed.append(FaceMatch(face_id, other_id, distance))
    return sorted(confirmed, key=lambda match: match.distance)


def kyc_face_index_update(*, rebuild: bool = False) -> dict:
    """Add the faces verified since the last update to the shared duplicate-face index."""
    return face_index_update(rebuild=rebuild)


@dataclass(frozen=True)
class VerifyOutcome:
    submission_id: int
    case_status: str
    verdict: str
    reason: str


class SubmissionLease:
    """Renews a claimed submission's ``heartbeat_at`` from a thread while the check runs (PostgreSQL).

    ``lost`` turns true when a renewal finds the claim gone (the sweeper gave the
    submission to another worker). SQLite is the single-process embedded setup:
    no sweeper races a running check there, and no second thread is started.
    """

    def __init__(self, *, submission_id: int, token: int):
        self.submission_id = submission_id
        self.token = token
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _claim(self):
        return KycSubmission.objects.filter(
            id=self.submission_id, status=SubmissionStatus.PROCESSING, processing_attempts=self.token
        )

    def renew(self) -> bool:
        renewed = bool(self._claim().update(heartbeat_at=timezone.now()))
        self.lost = self.lost or not renewed
        return renewed

    def _run(self, interval: float) -> None:
        try:
            while not self._stop.wait(interval):
                if not self.renew():
                    logger.warning("kyc submission %s: the lease was lost", self.submission_id)
                    return
        except Exception:  # noqa: BLE001 - a failed renewal must not kill the check; the lease runs out
            logger.exception("kyc submission %s: renewing the lease failed", self.submission_id)
        finally:
            connections.close_all()  # this thread's own connection

    def __enter__(self) -> SubmissionLease:
        if connections["default"].vendor == "postgresql":
            interval = max(settings.KYC_LEASE_SECONDS / 4, 0.1)
            self._thread = threading.Thread(
                target=self._run, args=(interval,), name=f"kyc-lease-{self.submission_id}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def kyc_submission_verify(
    *, submission_id: int, config: engine.EngineConfig | None = None
) -> VerifyOutcome | None:
    """Run the face check of one submission and record the result. Safe to run twice, also at once.

    Returns None when the submission is gone, another worker has it, or a lock
    was not granted within KYC_LOCK_TIMEOUT_MS (then it is back in the queue).
    """
    now = timezone.now()
    claimed = KycSubmission.objects.filter(id=submission_id, status=SubmissionStatus.QUEUED).update(
        status=SubmissionStatus.PROCESSING,
        started_at=now,
        heartbeat_at=now,
        processing_attempts=F("processing_attempts") + 1,
    )
    if not claimed:
        return None
    submission = KycSubmission.objects.select_related("case").get(id=submission_id)
    token = submission.processing_attempts
    config = config or engine.EngineConfig.from_settings()
    with SubmissionLease(submission_id=submission_id, token=token) as lease:
        result = engine.pair_match(_read(submission.selfie.name), _read(submission.ktp.name), config=config)
        duplicates: list[FaceMatch] = []
        if result.selfie_encoding is not None:
            started = timezone.now()
            duplicates = kyc_duplicates_find(
                encoding=result.selfie_encoding, applicant_id=submission.case.applicant_id
            )
            result.timings["duplicates_ms"] = round((timezone.now() - started).total_seconds() * 1000, 1)
    if lease.lost:
        return None
    try:
        return _submission_record(submission, result, duplicates, token=token)
    except OperationalError as exc:
        if not is_lock_timeout(exc):
            raise
        # Someone holds the case (or the duplicate lock) too long: give the claim back; the next
        # sweep dispatches it again. Nothing was recorded (the transaction rolled back).
        lease._claim().update(status=SubmissionStatus.QUEUED)
        logger.warning("kyc submission %s: lock timeout, back in the queue", submission_id)
        return None


def _submission_record(
    submission: KycSubmission, result: engine.MatchResult, duplicates: list[FaceMatch], *, token: int
) -> VerifyOutcome | None:
    now = timezone.now()
    with lock_timeout(settings.KYC_LOCK_TIMEOUT_MS):
        case = KycCase.objects.select_for_update().get(id=submission.case_id)
        if result.verdict == Verdict.VERIFIED:
            # Two look-alike uploads verified at the same moment must not both
            # pass: search again under the lock, now seeing every committed face.
            _duplicate_lock()
            duplicates = kyc_duplicates_find(
                encoding=result.selfie_encoding, applicant_id=case.applicant_id, allow_reload=False
            )
        verdict = result.verdict
        if duplicates and verdict == Verdict.VERIFIED:
            verdict = Verdict.REVIEW
        fields = {
            "status": SubmissionStatus.DONE,
            "system_verdict": verdict,
            "verdict": verdict,
            "reason": result.reason or "",
            "failed_image": result.failed_image or "",
            "distance": result.distance,
            "faces_selfie": result.faces_selfie,
            "faces_ktp": result.faces_ktp,
            "duplicate_distance": duplicates[0].distance if duplicates else None,
            "selfie_quality": result.selfie_quality,
            "ktp_quality": result.ktp_quality,
            "timings": result.timings,
            "model_name": result.model_name,
            "model_version": result.model_version,
            "selfie_encoding": (
                encoding_to_bytes(result.selfie_encoding) if result.selfie_encoding is not None else None
            ),
            "decided_at": now,
            "decided_by": None,
        }
        if not KycSubmission.objects.filter(
            id=submission.id, status=SubmissionStatus.PROCESSING, processing_attempts=token
        ).update(**fields):
            return None  # another run of this task recorded it first, or this claim's lease ran out
        for name, value in fields.items():
            setattr(submission, name, value)
        DuplicateCandidate.objects.bulk_create(
            [
                DuplicateCandidate(
                    submission=submission,
                    other_applicant_id=match.applicant_id,
                    other_face_id=match.face_id,
                    distance=match.distance,
                )
                for match in duplicates
            ]
        )
        KycCase.objects.filter(id=case.id).update(attempts_used=F("attempts_used") + 1)
        case.refresh_from_db(fields=["attempts_used", "extra_attempts"])
        if verdict == Verdict.VERIFIED:
            _case_to_verified(case, by=None)
            _verified_face_store(case=case, submission=submission)
        elif verdict == Verdict.REVIEW:
            _case_to_review(case, reason=ReviewReason.DUPLICATE if duplicates else ReviewReason.BORDERLINE)
        elif case.attempts_left <= 0:
            _case_to_review(case, reason=ReviewReason.ATTEMPTS_EXHAUSTED)
        else:
            _case_to_retry(case)
        _notify(case, key=f"kyc:{submission.id}:{case.status}")
    logger.info(
        "kyc submission %s: %s %s distance=%s in %sms",
        submission.id,
        verdict,
        result.reason or "",
        None if result.distance is None else round(result.distance, 3),
        result.timings.get("total_ms"),
    )
    return VerifyOutcome(submission.id, case.status, verdict, result.reason or "")


def kyc_sweep(*, now=None) -> dict[str, int]:
    """Put submissions a dead worker left behind back in the queue; give up after a few tries.

    A running check whose lease (``heartbeat_at``) is older than KYC_LEASE_SECONDS
    has lost its worker. A queued submission never picked up for
    KYC_STUCK_AFTER_SECONDS (its task message was lost) is dispatched again.
    """
    # Cycle: kyc.tasks imports the services.
    from kyc.tasks import kyc_submission_verify_task

    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.KYC_STUCK_AFTER_SECONDS)
    lease_before = now - timedelta(seconds=settings.KYC_LEASE_SECONDS)
    stuck = KycSubmission.objects.filter(status=SubmissionStatus.PROCESSING).filter(
        Q(heartbeat_at__lt=lease_before) | Q(heartbeat_at__isnull=True, started_at__lt=lease_before)
    )
    gave_up = 0
    for submission in stuck.filter(processing_attempts__gte=MAX_PROCESSING_ATTEMPTS).select_related("case"):
        gave_up += _submission_give_up(submission)
    requeued = stuck.filter(processing_attempts__lt=MAX_PROCESSING_ATTEMPTS).update(
        status=SubmissionStatus.QUEUED
    )
    due = list(
        KycSubmission.objects.filter(status=SubmissionStatus.QUEUED)
        .filter(Q(started_at__isnull=True, created_at__lt=stuck_before) | Q(started_at__isnull=False))
        .values_list("id", flat=True)[:1000]
    )
    for submission_id in due:
        kyc_submission_verify_task.delay(submission_id)
    return {"requeued": requeued, "enqueued": len(due), "gave_up": gave_up}


def _submission_give_up(submission: KycSubmission) -> int:
    with lock_timeout(settings.KYC_LOCK_TIMEOUT_MS):
        case = KycCase.objects.select_for_update().get(id=submission.case_id)
        updated = KycSubmission.objects.filter(id=submission.id, status=SubmissionStatus.PROCESSING).update(
            status=SubmissionStatus.DONE,
            system_verdict=Verdict.REVIEW,
            verdict=Verdict.REVIEW,
            decided_at=timezone.now(),
        )
        if not updated:
            return 0
        _case_to_review(case, reason=ReviewReason.ENGINE_ERROR)
        audit_log(actor=None, action="kyc.submission_failed", obj=case, data={"submission": submission.id})
    logger.error(
        "kyc submission %s failed %s times; sent to manual review", submission.id, MAX_PROCESSING_ATTEMPTS
    )
    return 1
