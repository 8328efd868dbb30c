"""Celery tasks of the partner gateway (found by ``prakerja.celery``'s autodiscovery)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)

STATUS_CHECK_RETRIES = 4
STATUS_CHUNK = 500  # payouts per bulk status inquiry


@shared_task(name="disbursement.payout_status_check", bind=True, max_retries=STATUS_CHECK_RETRIES)
def payout_status_check_task(self, payout_id: int) -> str:
    """Status inquiry for one payout (after a callback, or from the sweeper); safe to run twice."""
    from disbursement.gateway.errors import PartnerUnavailable
    from disbursement.gateway.services import payout_status_check
    from disbursement.models import Payout
    from disbursement.services.batches import batch_finish_if_done

    batch_id = Payout.objects.filter(pk=payout_id).values_list("batch_id", flat=True).first()
    if batch_id is None:
        logger.warning("payout %s is gone; no status inquiry", payout_id)
        return "gone"
    try:
        outcome = payout_status_check(payout_id=payout_id)
    except PartnerUnavailable as exc:
        if self.request.retries >= self.max_retries:
            return "unavailable"  # the sweeper asks again later
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 300)) from exc
    batch_finish_if_done(batch_id=batch_id)
    return outcome


@shared_task(name="disbursement.payouts_status_check_chunk", bind=True, max_retries=STATUS_CHECK_RETRIES)
def payouts_status_check_chunk_task(self, payout_ids: list[int]) -> dict:
    """Bulk status inquiry for a chunk of payouts (the sweeper); safe to run twice."""
    from disbursement.gateway.errors import PartnerUnavailable
    from disbursement.models import Payout
    from disbursement.services.batches import batch_finish_if_done
    from disbursement.services.payouts_bulk import payouts_status_check_bulk

    try:
        outcome = payouts_status_check_bulk(payout_ids=payout_ids)
    except PartnerUnavailable as exc:
        if self.request.retries >= self.max_retries:
            return {"unavailable": len(payout_ids)}  # the sweeper asks again later
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 300)) from exc
    for batch_id in set(Payout.objects.filter(pk__in=payout_ids).values_list("batch_id", flat=True)):
        batch_finish_if_done(batch_id=batch_id)
    return outcome


@shared_task(name="disbursement.payouts_status_sweep")
def payouts_status_sweep_task() -> int:
    """Beat: a status inquiry for every payout accepted long ago with no final answer (lost callbacks)."""
    from disbursement.gateway.services import payouts_awaiting_result

    ids = payouts_awaiting_result(
        older_than_seconds=settings.PAYOUT_STATUS_SWEEP_AFTER_SECONDS,
        limit=settings.PAYOUT_STATUS_SWEEP_BATCH,
    )
    for start in range(0, len(ids), STATUS_CHUNK):
        payouts_status_check_chunk_task.delay(ids[start : start + STATUS_CHUNK])
    return len(ids)
