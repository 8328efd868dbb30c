import logging

from celery import shared_task

from marketplace.services import api_records_cleanup, provider_upload_stash_cleanup

logger = logging.getLogger(__name__)


@shared_task(name="marketplace.api_records_cleanup", ignore_result=True)
def api_records_cleanup_task() -> None:
    """Hourly: forget expired API nonces and idempotency records, and abandoned form uploads."""
    result = api_records_cleanup()
    result["stashed_uploads"] = provider_upload_stash_cleanup()
    if any(result.values()):
        logger.info("marketplace cleanup: %s", result)
