"""KYC operations: uploads, verification in the worker, reviewer decisions, retention.

Every status change of a case goes through one transition function per move
(``_case_*``), a compare-and-swap on the old status. Verification does the CPU
work (kyc/engine.py) outside any transaction and records the result in one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kyc import engine
from kyc.enums import CaseStatus, Decision, ImageKind, RejectReason, ReviewReason, SubmissionStatus, Verdict
from kyc.face_index import FaceMatch, face_index
from kyc.models import (
    DuplicateCandidate,
    KycCase,
    KycSubmission,
    VerifiedFace,
    encoding_from_bytes,
    encoding_to_bytes,
    photo_path,
)
from prakerja.audit import audit_log
from prakerja.enums import NotificationChannel
from prakerja.notifications import notify_user
from registration.models import Applicant

logger = logging.getLogger(__name__)

REVIEW_PERMISSION = "kyc.review_kyccase"
UPLOAD_STATUSES = (CaseStatus.NOT_STARTED, CaseStatus.RETRY)
# Advisory-lock key serialising "check duplicates, then store a verified face".
DUPLICATE_LOCK_KEY = 0x4B5943  # "KYC"
MAX_PROCESSING_ATTEMPTS = 3
DRAFT_MAX_AGE = timedelta(days=1)


class KycError(Exception):
    """A KYC operation that cannot be done; ``str()`` is a message for people."""


class UploadNotAllowed(KycError):
    pass


class PhotoRejected(KycError):
    def __init__(self, *, reason: str, image: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.image = image


# --- Reading ---------------------------------------------------------------------


def kyc_case_get_or_create(*, applicant: Applicant) -> KycCase:
    case, _created = KycCase.objects.get_or_create(applicant=applicant)
    return case


def kyc_upload_blocker(*, applicant: Applicant | None, case: KycCase | None) -> str | None:
    """Why this applicant cannot upload photos now, or None when they can."""
    if applicant is None:
        return _("Only applicants can verify their identity here.")
    if applicant.profile_completed_at is None:
        return _("Complete your profile first; then you can upload your photos.")
    if case is None or case.status == CaseStatus.NOT_STARTED:
        return None
    if case.status == CaseStatus.RETRY and case.attempts_left > 0:
        return None
    if case.status == CaseStatus.PROCESSING:
        return _("Your photos are being verified. The result appears on your dashboard.")
    if case.status == CaseStatus.REVIEW:
        return _("An officer is checking your photos. You do not need to upload them again.")
    if case.status == CaseStatus.VERIFIED:
        return _("Your identity is already verified.")
    if case.status == CaseStatus.REJECTED:
        return _(
            "Your identity check was closed by an officer. Contact the call centre if you think it is wrong."
        )
    return _("No attempts are left.")


# --- Upload ----------------------------------------------------------------------


def kyc_photo_prepare(*, data: bytes, image: str, config: engine.EngineConfig | None = None) -> bytes:
    """Check one uploaded photo the quick way and return it re-encoded without metadata.

    Raises PhotoRejected with the engine's reason code (not_an_image,
    too_large, too_small, too_dark, blurred) and a message for the applicant.
    """
    from kyc.messages import reason_message

    config = config or engine.EngineConfig.from_settings()
    try:
        prepared = engine.image_prepare(data, config=config)
    except engine.ImageRejected as exc:
        raise PhotoRejected(
            reason=exc.reason, image=image, message=reason_message(exc.reason, image)
        ) from exc
    problem = engine.quality_problem(engine.image_quality(prepared, config=config), config=config)
    if problem:
        raise PhotoRejected(reason=problem, image=image, message=reason_message(problem, image))
    return engine.jpeg_bytes(prepared, quality=config.jpeg_quality)


def _transition(case: KycCase, *, allowed: tuple[str, ...], to: str, **fields) -> bool:
    """Compare-and-swap ``case.status`` from one of ``allowed`` to ``to``; updates ``case`` too."""
    now = timezone.now()
    changed = KycCase.objects.filter(id=case.id, status__in=allowed).update(
        status=to, status_changed_at=now, **fields
    )
    if changed:
        case.status = to
        case.status_changed_at = now
        for name, value in fields.items():
            setattr(case, name, value)
    return bool(changed)


def _case_start_processing(case: KycCase, submission: KycSubmission) -> bool:
    return _transition(
        case,
        allowed=UPLOAD_STATUSES,
        to=CaseStatus.PROCESSING,
        review_reason="",
        latest_submission=submission,
    )


def _case_to_verified(case: KycCase, *, by, note: str = "") -> bool:
    return _transition(
        case,
        allowed=(CaseStatus.PROCESSING, CaseStatus.REVIEW),
        to=CaseStatus.VERIFIED,
        decided_at=timezone.now(),
        decided_by=by,
        decision_note=note,
        reject_reason="",
    )


def _case_to_review(case: KycCase, *, reason: str) -> bool:
    return _transition(case, allowed=(CaseStatus.PROCESSING,), to=CaseStatus.REVIEW, review_reason=reason)


def _case_to_retry(case: KycCase) -> bool:
    return _transition(case, allowed=(CaseStatus.PROCESSING,), to=CaseStatus.RETRY, review_reason="")


def _case_reopen(case: KycCase, *, by, note: str) -> bool:
    return _transition(
        case,
        allowed=(CaseStatus.REVIEW,),
        to=CaseStatus.RETRY,
        review_reason="",
        extra_attempts=F("extra_attempts") + 1,
        decided_by=by,
        decision_note=note,
    )


def _case_to_rejected(case: KycCase, *, by, reason: str, note: str) -> bool:
    return _transition(
        case,
        allowed=(CaseStatus.REVIEW,),
        to=CaseStatus.REJECTED,
        decided_at=timezone.now(),
        decided_by=by,
        reject_reason=reason,
        decision_note=note,
    )


def kyc_submission_create(*, applicant: Applicant, selfie_jpeg: bytes, ktp_jpeg: bytes) -> KycSubmission:
    """Store the two prepared photos (see ``kyc_photo_prepare``) and queue the face check.

    Raises UploadNotAllowed when the case is not waiting for photos (a double
    submit, a check already running, no attempts left).
    """
    from kyc.tasks import kyc_submission_verify_task

    names = [
        default_storage.save(photo_path(None, "selfie.jpg"), ContentFile(selfie_jpeg)),
        default_storage.save(photo_path(None, "ktp.jpg"), ContentFile(ktp_jpeg)),
    ]
    try:
        with transaction.atomic():
            kyc_case_get_or_create(applicant=applicant)
            case = KycCase.objects.select_for_update().get(applicant=applicant)
            blocker = kyc_upload_blocker(applicant=applicant, case=case)
            if blocker:
                raise UploadNotAllowed(blocker)
            submission = KycSubmission.objects.create(
                case=case, number=case.submissions.count() + 1, selfie=names[0], ktp=names[1]
            )
            if not _case_start_processing(case, submission):
                raise UploadNotAllowed(_("Your photos were already received."))
            transaction.on_commit(lambda: kyc_submission_verify_task.delay(submission.id))
    except Exception:
        for name in names:
            default_storage.delete(name)
        raise
    return submission


# --- Verification (worker) ------------------------------------------------------------


def _read(name: str) -> bytes:
    if not name:
        return b""
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        logger.warning("kyc: a photo file is missing from private storage")
        return b""


def _duplicate_lock() -> None:
    """Serialise "search duplicates, then store a verified face" across workers (PostgreSQL).

    SQLite serialises every write transaction anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DUPLICATE_LOCK_KEY])


def kyc_duplicates_find(*, encoding, applicant_id: int) -> list[FaceMatch]:
    """Verified faces of other applicants closer than KYC_DUPLICATE_THRESHOLD, nearest first.

    Searches this process's cached matrix, then confirms each hit against the
    database so a stale cache never invents a duplicate.
    """
    index = face_index()
    index.refresh(reload_after=settings.KYC_FACE_INDEX_RELOAD_SECONDS)
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


def _verified_face_store(*, case: KycCase, submission: KycSubmission) -> VerifiedFace:
    """Keep the applicant's selfie encoding for the duplicate search. Call under _duplicate_lock."""
    face, _created = VerifiedFace.objects.update_or_create(
        applicant_id=case.applicant_id,
        defaults={"submission": submission, "encoding": bytes(submission.selfie_encoding)},
    )
    return face


@dataclass(frozen=True)
class VerifyOutcome:
    submission_id: int
    case_status: str
    verdict: str
    reason: str


def kyc_submission_verify(
    *, submission_id: int, config: engine.EngineConfig | None = None
) -> VerifyOutcome | None:
    """Run the face check of one submission and record the result. Safe to run twice.

    Returns None when the submission is gone or another worker has it.
    """
    now = timezone.now()
    claimed = KycSubmission.objects.filter(id=submission_id, status=SubmissionStatus.QUEUED).update(
        status=SubmissionStatus.PROCESSING, started_at=now, processing_attempts=F("processing_attempts") + 1
    )
    if not claimed:
        return None
    submission = KycSubmission.objects.select_related("case").get(id=submission_id)
    config = config or engine.EngineConfig.from_settings()
    result = engine.pair_match(_read(submission.selfie.name), _read(submission.ktp.name), config=config)
    duplicates: list[FaceMatch] = []
    if result.selfie_encoding is not None:
        started = timezone.now()
        duplicates = kyc_duplicates_find(
            encoding=result.selfie_encoding, applicant_id=submission.case.applicant_id
        )
        result.timings["duplicates_ms"] = round((timezone.now() - started).total_seconds() * 1000, 1)
    return _submission_record(submission, result, duplicates)


def _submission_record(
    submission: KycSubmission, result: engine.MatchResult, duplicates: list[FaceMatch]
) -> VerifyOutcome | None:
    now = timezone.now()
    with transaction.atomic():
        case = KycCase.objects.select_for_update().get(id=submission.case_id)
        if result.verdict == Verdict.VERIFIED:
            # Two look-alike uploads verified at the same moment must not both
            # pass: search again under the lock, now seeing every committed face.
            _duplicate_lock()
            duplicates = kyc_duplicates_find(encoding=result.selfie_encoding, applicant_id=case.applicant_id)
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
        if not KycSubmission.objects.filter(id=submission.id, status=SubmissionStatus.PROCESSING).update(
            **fields
        ):
            return None  # another run of this task recorded it first
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


def _notify(case: KycCase, *, key: str) -> None:
    """Tell the applicant (email; SMS too for a final decision) in their own language."""
    from kyc.messages import reason_message, reject_message

    applicant = Applicant.objects.select_related("user").get(id=case.applicant_id)
    latest = KycSubmission.objects.filter(id=case.latest_submission_id).first()
    with translation.override(applicant.user.language or settings.LANGUAGE_CODE):
        if case.status == CaseStatus.RETRY:
            explanation = (
                reason_message(latest.reason, latest.failed_image) if latest and latest.reason else ""
            )
        elif case.status == CaseStatus.REJECTED:
            explanation = reject_message(case.reject_reason)
        else:
            explanation = ""
    channels = [NotificationChannel.EMAIL]
    if case.status in (CaseStatus.VERIFIED, CaseStatus.REJECTED):
        channels.append(NotificationChannel.SMS)
    notify_user(
        user=applicant.user,
        template="kyc_status",
        context={"status": case.status, "explanation": explanation, "attempts_left": case.attempts_left},
        phone=applicant.phone if applicant.phone_verified_at else None,
        channels=channels,
        idempotency_key=key,
    )


def kyc_sweep(*, now=None) -> dict[str, int]:
    """Put submissions a dead worker left behind back in the queue; give up after a few tries."""
    from kyc.tasks import kyc_submission_verify_task

    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.KYC_STUCK_AFTER_SECONDS)
    stuck = KycSubmission.objects.filter(status=SubmissionStatus.PROCESSING, started_at__lt=stuck_before)
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
    with transaction.atomic():
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


# --- Reviewer decisions ------------------------------------------------------------------


def _reviewer_check(reviewer) -> None:
    if not (reviewer and reviewer.is_active and reviewer.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied("KYC review permission required")


def kyc_case_decide(
    *, case_id: int, reviewer, decision: str, reject_reason: str = "", note: str = ""
) -> KycCase:
    """A KYC Reviewer's decision on a case in review: approve, reject or ask for new photos. Audited."""
    _reviewer_check(reviewer)
    if decision == Decision.REJECT and reject_reason not in RejectReason.values:
        raise KycError(_("Choose why the case is rejected."))
    if decision == Decision.REJECT and reject_reason == RejectReason.OTHER and not note.strip():
        raise KycError(_("Explain the rejection in the note."))
    with transaction.atomic():
        case = (
            KycCase.objects.select_for_update(of=("self",))
            .select_related("latest_submission")
            .get(id=case_id)
        )
        if case.status != CaseStatus.REVIEW:
            raise KycError(
                _("This case is no longer waiting for review (it is now: %(status)s).")
                % {"status": case.get_status_display()}
            )
        submission = case.latest_submission
        duplicates = list(
            submission.duplicate_candidates.values_list("other_applicant_id", "distance")
            if submission
            else []
        )
        if decision == Decision.APPROVE:
            if submission is None or submission.selfie_encoding is None:
                raise KycError(
                    _(
                        "The latest selfie has no usable face, so it cannot be approved. Ask for new photos instead."
                    )
                )
            _duplicate_lock()
            changed = _case_to_verified(case, by=reviewer, note=note)
            if changed:
                _verified_face_store(case=case, submission=submission)
            verdict = Verdict.VERIFIED
        elif decision == Decision.REJECT:
            changed = _case_to_rejected(case, by=reviewer, reason=reject_reason, note=note)
            verdict = Verdict.REJECTED
        elif decision == Decision.RETRY:
            changed = _case_reopen(case, by=reviewer, note=note)
            case.refresh_from_db(fields=["extra_attempts"])
            verdict = Verdict.REJECTED
        else:
            raise KycError(_("Unknown decision."))
        if not changed:
            raise KycError(_("Someone else decided this case a moment ago."))
        if submission is not None:
            KycSubmission.objects.filter(id=submission.id).update(
                verdict=verdict, decided_at=timezone.now(), decided_by=reviewer
            )
        audit_log(
            actor=reviewer,
            action=f"kyc.case_{decision}",
            obj=case,
            data={
                "submission": submission.id if submission else None,
                "system_verdict": submission.system_verdict if submission else "",
                "distance": None
                if submission is None or submission.distance is None
                else round(submission.distance, 4),
                "review_reason": case.review_reason,
                "duplicates": [{"applicant": other, "distance": round(d, 4)} for other, d in duplicates],
                "reject_reason": reject_reason if decision == Decision.REJECT else "",
                "note": note,
            },
        )
        _notify(case, key=f"kyc:case{case.id}:{decision}:{case.status_changed_at.timestamp()}")
    return case


# --- Retention --------------------------------------------------------------------------


def kyc_photos_purge(*, now=None, batch: int = 500) -> int:
    """Delete the raw photos of submissions decided more than KYC_PHOTO_RETENTION_DAYS ago.

    Photos of a case still waiting for a reviewer (or a worker) stay. The
    encodings and every decision field stay. Returns how many submissions lost
    their photos; also clears upload drafts older than a day.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KYC_PHOTO_RETENTION_DAYS)
    due = (
        KycSubmission.objects.filter(photos_deleted_at__isnull=True, decided_at__lt=cutoff)
        .exclude(case__status__in=[CaseStatus.REVIEW, CaseStatus.PROCESSING])
        .order_by("decided_at")
        .values_list("id", "selfie", "ktp")[:batch]
    )
    purged = 0
    for submission_id, selfie, ktp in due:
        for name in (selfie, ktp):
            if name:
                default_storage.delete(name)
        purged += KycSubmission.objects.filter(id=submission_id, photos_deleted_at__isnull=True).update(
            selfie="", ktp="", photos_deleted_at=now
        )
    drafts_purge(now=now)
    if purged:
        logger.info("kyc retention: deleted the photos of %s submissions", purged)
    return purged


# --- Drafts: a good photo survives the other one being refused ---------------------------


def draft_name(*, applicant_id: int, image: str) -> str:
    return f"kyc/drafts/{applicant_id}-{ImageKind(image).value}.jpg"


def draft_save(*, applicant_id: int, image: str, jpeg: bytes) -> None:
    name = draft_name(applicant_id=applicant_id, image=image)
    default_storage.delete(name)
    default_storage.save(name, ContentFile(jpeg))


def draft_load(*, applicant_id: int, image: str, now=None) -> bytes | None:
    name = draft_name(applicant_id=applicant_id, image=image)
    if not default_storage.exists(name):
        return None
    if (now or timezone.now()) - default_storage.get_modified_time(name) > DRAFT_MAX_AGE:
        default_storage.delete(name)
        return None
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def drafts_clear(*, applicant_id: int) -> None:
    for image in ImageKind.values:
        default_storage.delete(draft_name(applicant_id=applicant_id, image=image))


def drafts_purge(*, now=None) -> int:
    now = now or timezone.now()
    try:
        _dirs, files = default_storage.listdir("kyc/drafts")
    except FileNotFoundError:
        return 0
    removed = 0
    for name in files:
        path = f"kyc/drafts/{name}"
        if now - default_storage.get_modified_time(path) > DRAFT_MAX_AGE:
            default_storage.delete(path)
            removed += 1
    return removed
