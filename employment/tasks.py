import logging

from celery import shared_task

from employment.services import api_nonces_cleanup

logger = logging.getLogger(__name__)


@shared_task(name="employment.api_nonces_cleanup", ignore_result=True)
def api_nonces_cleanup_task() -> None:
    """Hourly: forget job platform API nonces that can no longer be replayed."""
    deleted = api_nonces_cleanup()
    if deleted:
        logger.info("employment cleanup: %d nonces", deleted)
