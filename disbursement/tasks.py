from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from disbursement.selectors import ledger_check

logger = logging.getLogger(__name__)


@shared_task(name="disbursement.ledger_check")
def ledger_check_task() -> bool:
    """Nightly proof that the ledger adds up; an ERROR log line (and alert) when it does not."""
    result = ledger_check()
    if result.ok:
        logger.info(
            "ledger check OK: %d accounts, %d movements", result.accounts_checked, result.movements_checked
        )
    else:
        logger.error(
            "ledger check FAILED: %d balance mismatches (first: %s), %d unbalanced movements (first: %s), "
            "entries sum to %d",
            result.balance_mismatch_count,
            [m.account_id for m in result.balance_mismatches],
            result.unbalanced_movement_count,
            result.unbalanced_movement_ids,
            result.entries_sum,
        )
    return result.ok


@shared_task(
    name="disbursement.payout_send",
    bind=True,
    max_retries=None,  # PAYOUT_SEND_RETRIES, read when it runs
    acks_late=True,
)
def payout_send_task(self, payout_id: int, resend: bool = False) -> str:
    """Send one payout (same idempotency key on every try); transient partner errors retry with backoff.

    Late ack: a worker killed mid-send leaves the message to be delivered again, and the payout in
    SENDING for the resend below; the partner dedupes on the key either way.
    """
    from disbursement.gateway import PartnerUnavailable
    from disbursement.models import Payout
    from disbursement.services.batches import batch_finish_if_done
    from disbursement.services.payouts import payout_send

    payout = Payout.objects.filter(pk=payout_id).only("id", "batch_id").first()
    if payout is None:
        logger.warning("payout %s is gone; not sent", payout_id)
        return "gone"
    try:
        outcome = payout_send(
            payout_id=payout_id, resend=resend or self.request.retries > 0 or _redelivered(self.request)
        )
    except PartnerUnavailable as exc:
        delay = min(settings.PAYOUT_SEND_RETRY_BASE_SECONDS * 2**self.request.retries, 3600)
        if self.request.retries >= settings.PAYOUT_SEND_RETRIES:
            logger.warning(
                "payout %s: partner unavailable after %d tries; the sweeper resends",
                payout_id,
                self.request.retries,
            )
            return "unavailable"
        raise self.retry(exc=exc, countdown=delay) from exc
    batch_finish_if_done(batch_id=payout.batch_id)
    return outcome


@shared_task(
    name="disbursement.payouts_send_chunk",
    bind=True,
    max_retries=None,  # PAYOUT_SEND_RETRIES, read when it runs
    acks_late=True,
)
def payouts_send_chunk_task(self, payout_ids: list[int], resend: bool = False) -> dict:
    """Send a chunk of payouts in one bulk request (each under its own idempotency key).

    Late ack, like ``payout_send_task``: a worker killed mid-chunk leaves the message to be delivered
    again (then sent with ``resend``: payouts left SENDING go again under the same keys, which the
    partner dedupes) and the sweeper resends whatever is still SENDING.
    """
    from disbursement.gateway import PartnerUnavailable
    from disbursement.models import Payout
    from disbursement.services.batches import batch_finish_if_done
    from disbursement.services.payouts_bulk import payouts_send_bulk

    try:
        outcome = payouts_send_bulk(
            payout_ids=payout_ids,
            resend=resend or self.request.retries > 0 or _redelivered(self.request),
        )
    except PartnerUnavailable as exc:
        delay = min(settings.PAYOUT_SEND_RETRY_BASE_SECONDS * 2**self.request.retries, 3600)
        if self.request.retries >= settings.PAYOUT_SEND_RETRIES:
            logger.warning(
                "%d payouts: partner unavailable after %d tries; the sweeper resends",
                len(payout_ids),
                self.request.retries,
            )
            return {"unavailable": len(payout_ids)}
        raise self.retry(exc=exc, countdown=delay) from exc  # a retry sends with resend
    for batch_id in set(Payout.objects.filter(pk__in=payout_ids).values_list("batch_id", flat=True)):
        batch_finish_if_done(batch_id=batch_id)
    return outcome


def payouts_send_in_chunks(payout_ids: list[int], *, resend: bool = False) -> int:
    """Queue ``payouts_send_chunk_task`` for ``payout_ids`` in chunks of at most ``PAYOUT_SEND_CHUNK``.

    At least ~100 chunks per call (never fewer than 10 payouts each): the message of a worker killed
    mid-chunk comes back only after the broker's visibility timeout (the sweeper resends its payouts
    first), so one lost worker holds up about 1 % of a batch, not a quarter of it.
    """
    size = max(1, min(settings.PAYOUT_SEND_CHUNK, 1000, max(10, -(-len(payout_ids) // 100))))
    for start in range(0, len(payout_ids), size):
        payouts_send_chunk_task.delay(list(payout_ids[start : start + size]), resend=resend)
    return len(payout_ids)


@shared_task(name="disbursement.payouts_notify")
def payouts_notify_task(payout_ids: list[int], event: str) -> int:
    """The SMS and email for ``event`` of many payouts (idempotent per payout, round and event)."""
    from disbursement.services.notices import payouts_notify

    return payouts_notify(payout_ids=payout_ids, event=event)


@shared_task(name="disbursement.batch_send")
def batch_send_task(batch_id: int) -> int:
    from disbursement.services.batches import batch_send

    return batch_send(batch_id=batch_id)


@shared_task(name="disbursement.batches_prepare_due")
def batches_prepare_due_task() -> int:
    """Hourly: accrue what fell due and prepare batches for officers to approve."""
    from disbursement.services.batches import batches_prepare_due

    return len(batches_prepare_due())


@shared_task(name="disbursement.payouts_resend_stuck")
def payouts_resend_stuck_task() -> int:
    """Payouts left in SENDING (a worker died between claiming and the partner's answer) are sent again
    with the same key; queued payouts of a batch being sent whose task was lost are sent. Also closes
    batches with nothing left in flight."""
    from disbursement.enums import BatchStatus
    from disbursement.models import PayoutBatch
    from disbursement.services.batches import batch_finish_if_done
    from disbursement.services.payouts import payouts_stuck_queued, payouts_stuck_sending

    after = settings.PAYOUT_SENDING_STUCK_AFTER_SECONDS
    stuck = payouts_stuck_sending(older_than_seconds=after)
    lost = payouts_stuck_queued(older_than_seconds=after)
    payouts_send_in_chunks(stuck, resend=True)
    payouts_send_in_chunks(lost)
    for batch_id in PayoutBatch.objects.filter(status=BatchStatus.SENDING).values_list("id", flat=True)[:100]:
        batch_finish_if_done(batch_id=batch_id)
    return len(stuck) + len(lost)


def _redelivered(request) -> bool:
    """The broker delivered this message before (a worker died holding it)."""
    return bool((getattr(request, "delivery_info", None) or {}).get("redelivered"))
