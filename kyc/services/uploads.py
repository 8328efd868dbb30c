"""Uploads: who may upload, the quick photo checks, storing a submission, drafts."""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kyc import engine
from kyc.enums import CaseStatus, ImageKind
from kyc.messages import reason_message
from kyc.models import (
    KycCase,
    KycSubmission,
    photo_path,
)
from kyc.services.common import (
    DRAFT_MAX_AGE,
    PhotoRejected,
    UploadNotAllowed,
    _case_start_processing,
)
from registration.models import Applicant

logger = logging.getLogger(__name__)


def kyc_case_get_or_create(*, applicant: Applicant) -> KycCase:
    case, _created = KycCase.objects.get_or_create(applicant=applicant)
    return case


def kyc_upload_blocker(*, applicant: Applicant | None, case: KycCase | None) -> str | None:
    """Why this applicant cannot upload photos now, or None when they can."""
    if applicant is None:
        return _("Only applicants can verify their identity here.")
    if applicant.profile_completed_at is None:
        return _("Complete your profile first; then you can upload your photos.")
    if applicant.frozen_at:
        return _("Your registration is on hold while an officer checks a report about your NIK.")
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


def kyc_photo_prepare(*, data: bytes, image: str, config: engine.EngineConfig | None = None) -> bytes:
    """Check one uploaded photo the quick way and return it re-encoded without metadata.

    Raises PhotoRejected with the engine's reason code (not_an_image,
    too_large, too_small, too_dark, blurred) and a message for the applicant.
    """
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


def kyc_submission_create(*, applicant: Applicant, selfie_jpeg: bytes, ktp_jpeg: bytes) -> KycSubmission:
    """Store the two prepared photos (see ``kyc_photo_prepare``) and queue the face check.

    Raises UploadNotAllowed when the case is not waiting for photos (a double
    submit, a check already running, no attempts left).
    """
    # Cycle: kyc.tasks imports the services.
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
            # robust: the photos are kept; with the broker away for a moment kyc.sweep queues the check.
            transaction.on_commit(lambda: kyc_submission_verify_task.delay(submission.id), robust=True)
    except Exception:
        for name in names:
            default_storage.delete(name)
        raise
    return submission


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
