"""Shared pieces of the KYC services: errors, case transitions, the duplicate lock, notices.

Every status change of a case goes through one transition function per move
(``_case_*``), a compare-and-swap on the old status.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone, translation

from kyc.enums import CaseStatus
from kyc.messages import reason_message, reject_message
from kyc.models import (
    KycCase,
    KycSubmission,
    VerifiedFace,
)
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


def _duplicate_lock() -> None:
    """Serialise "search duplicates, then store a verified face" across workers (PostgreSQL).

    SQLite serialises every write transaction anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DUPLICATE_LOCK_KEY])


def _verified_face_store(*, case: KycCase, submission: KycSubmission) -> VerifiedFace:
    """Keep the applicant's selfie encoding for the duplicate search. Call under _duplicate_lock."""
    face, _created = VerifiedFace.objects.update_or_create(
        applicant_id=case.applicant_id,
        defaults={"submission": submission, "encoding": bytes(submission.selfie_encoding)},
    )
    return face


def _notify(case: KycCase, *, key: str) -> None:
    """Tell the applicant (email; SMS too for a final decision) in their own language."""
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
