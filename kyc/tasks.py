import logging

from celery import shared_task

from kyc.models import KycSubmission
from kyc.services import kyc_face_index_update, kyc_photos_purge, kyc_submission_verify, kyc_sweep

logger = logging.getLogger(__name__)


@shared_task(name="kyc.submission_verify", ignore_result=True, acks_late=True)
def kyc_submission_verify_task(submission_id: int) -> None:
    if not KycSubmission.objects.filter(id=submission_id).exists():
        logger.warning("kyc.submission_verify: submission %s is gone", submission_id)
        return
    kyc_submission_verify(submission_id=submission_id)


@shared_task(name="kyc.sweep", ignore_result=True)
def kyc_sweep_task() -> None:
    result = kyc_sweep()
    if any(result.values()):
        logger.info("kyc sweep: %s", result)


@shared_task(name="kyc.photos_purge", ignore_result=True)
def kyc_photos_purge_task() -> None:
    kyc_photos_purge()


@shared_task(name="kyc.face_index_update", ignore_result=True)
def kyc_face_index_update_task() -> None:
    kyc_face_index_update()
