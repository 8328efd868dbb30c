import logging

from celery import shared_task

from marketplace.services import api_records_cleanup, provider_upload_stash_cleanup, purchases_expire_stale
from marketplace.webhooks import webhook_send, webhooks_sweep

logger = logging.getLogger(__name__)


@shared_task(name="marketplace.api_records_cleanup", ignore_result=True)
def api_records_cleanup_task() -> None:
    """Hourly: forget expired API nonces and idempotency records, and abandoned form uploads."""
    result = api_records_cleanup()
    result["stashed_uploads"] = provider_upload_stash_cleanup()
    if any(result.values()):
        logger.info("marketplace cleanup: %s", result)


@shared_task(name="marketplace.purchases_expire_stale", ignore_result=True)
def purchases_expire_stale_task() -> None:
    """Every 10 minutes: purchases whose SMS code can no longer be entered are marked not completed."""
    expired = purchases_expire_stale()
    if expired:
        logger.info("marketplace: %d purchases timed out waiting for their code", expired)


@shared_task(name="marketplace.webhooks_send_batch", ignore_result=True)
def webhooks_send_batch(delivery_ids: list[int]) -> None:
    """Deliver queued webhooks (one attempt each); a row someone else claimed is skipped."""
    for delivery_id in delivery_ids:
        webhook_send(delivery_id=delivery_id)


@shared_task(name="marketplace.webhooks_sweep", ignore_result=True)
def webhooks_sweep_task() -> None:
    """Every minute: webhooks stuck in sending go back to the queue; due ones are dispatched."""
    result = webhooks_sweep()
    if any(result.values()):
        logger.info("marketplace webhooks sweep: %s", result)
