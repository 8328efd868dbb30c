"""The portal's side of partner callbacks and status inquiries.

A callback is a hint. It is checked (signature, fresh timestamp, unused nonce), deduplicated by its
event id, and then only triggers a status inquiry at the partner; the payout moves solely through the
compare-and-swap transitions of ``disbursement.services.payouts``, with what the partner's status
endpoint says. The sweeper asks about payouts accepted long ago with no final answer (lost callbacks).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from disbursement.enums import PayoutStatus
from disbursement.gateway import protocol
from disbursement.gateway.callbacks import callback_verify
from disbursement.gateway.errors import CallbackInvalid, PartnerRejected
from disbursement.models import PaymentPartner, Payout

logger = logging.getLogger(__name__)

# What a status inquiry may still change: in flight, or failed here (the partner may have paid after all).
CHECKABLE = (PayoutStatus.SENDING, PayoutStatus.ACCEPTED, PayoutStatus.FAILED)
EVENT_MEMORY_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class CallbackOutcome:
    http_status: int
    result: str  # checking | no_change | duplicate | unknown_reference | an error code


def callback_receive(*, partner_id: int, headers, body: bytes) -> CallbackOutcome:
    """Check one callback from partner ``partner_id`` and queue a status inquiry when it may matter."""
    from disbursement.services.partners import partner_secret_decrypt

    partner = PaymentPartner.objects.filter(pk=partner_id).first()
    if partner is None:
        return CallbackOutcome(404, "partner_unknown")
    if (
        headers.get(protocol.SCHEME.key_id_header, "") != partner.key_id
        or not partner.callback_secret_encrypted
    ):
        logger.warning("payout callback from partner %s: unknown key id", partner.pk)
        return CallbackOutcome(401, "key_unknown")
    skew = settings.PAYOUT_CALLBACK_MAX_SKEW_SECONDS
    try:
        payload = callback_verify(
            secret=partner_secret_decrypt(partner.callback_secret_encrypted),
            headers=headers,
            body=body,
            max_skew_seconds=skew,
        )
    except CallbackInvalid as exc:
        logger.warning("payout callback from partner %s refused: %s", partner.pk, exc.code)
        return CallbackOutcome(400 if exc.code == "payload_invalid" else 401, exc.code)
    nonce = headers.get(protocol.SCHEME.nonce_header)
    if not cache.add(f"payout-callback-nonce:{partner.pk}:{nonce}", 1, timeout=2 * skew):
        logger.warning("payout callback from partner %s refused: nonce reused (replay)", partner.pk)
        return CallbackOutcome(401, "nonce_reused")
    event_key = f"payout-callback-event:{partner.pk}:{payload.get('event_id') or nonce}"
    if cache.get(event_key):
        return CallbackOutcome(200, "duplicate")
    payout = (
        Payout.objects.filter(partner=partner, reference=payload["reference"]).only("id", "status").first()
    )
    if payout is None:
        logger.warning(
            "payout callback from partner %s: unknown reference %s", partner.pk, payload["reference"]
        )
        outcome = CallbackOutcome(200, "unknown_reference")
    elif not _may_change(payout.status, payload["status"]):
        outcome = CallbackOutcome(200, "no_change")
    else:
        payout_id = payout.pk
        transaction.on_commit(lambda: _enqueue_check(payout_id))
        outcome = CallbackOutcome(200, "checking")
    cache.set(event_key, 1, timeout=EVENT_MEMORY_SECONDS)
    return outcome


def _may_change(current: str, reported: str) -> bool:
    if current not in CHECKABLE:
        return False  # queued (not sent yet), paid or cancelled: a callback changes nothing
    if current == PayoutStatus.FAILED:
        return reported == protocol.PAID
    if current == PayoutStatus.ACCEPTED:
        return reported in protocol.FINAL_STATUSES
    return True  # sending


def _enqueue_check(payout_id: int) -> None:
    from disbursement.gateway.tasks import payout_status_check_task

    payout_status_check_task.delay(payout_id)


def payout_status_check(*, payout_id: int) -> str:
    """Ask the partner about one payout and apply its answer through the transitions.

    Returns ``changed``, ``unchanged``, ``not_found`` (the partner never got it: the resend sweeper
    handles a payout stuck in sending) or ``skipped``. ``PartnerUnavailable`` propagates (retry).
    """
    from disbursement.services.partners import partner_client
    from disbursement.services.payouts import payout_apply_result

    payout = Payout.objects.select_related("partner").filter(pk=payout_id).first()
    if payout is None or payout.status not in CHECKABLE:
        return "skipped"
    try:
        result = partner_client(partner=payout.partner).disbursement_status(reference=payout.reference)
    except PartnerRejected as exc:
        if exc.code == "not_found":
            return "not_found"
        raise
    if payout.status == PayoutStatus.FAILED and result.status != protocol.PAID:
        return "unchanged"
    changed = payout_apply_result(
        payout_id=payout.pk,
        status=result.status,
        partner_id=result.partner_id,
        failure_code=result.failure_code,
    )
    return "changed" if changed else "unchanged"


def payouts_awaiting_result(*, older_than_seconds: int, limit: int) -> list[int]:
    """Payouts the partner accepted at least ``older_than_seconds`` ago and has not finished (oldest first)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Payout.objects.filter(status=PayoutStatus.ACCEPTED, sending_at__lt=cutoff)
        .order_by("sending_at")
        .values_list("id", flat=True)[:limit]
    )
