"""Messages to a person about their payouts (SMS and email, in their language, through the outbox)."""

from __future__ import annotations

import logging

from django.utils import translation

from disbursement.models import Payout
from prakerja.money import format_rupiah
from prakerja.notifications import notify_user

logger = logging.getLogger(__name__)

EVENTS = ("sent", "paid", "failed")


def payout_notify(*, payout_id: int, event: str) -> None:
    """Queue the SMS and email for ``event`` ("sent" | "paid" | "failed") of a payout, once per round."""
    if event not in EVENTS:
        raise ValueError(f"unknown payout event {event!r}")
    payout = Payout.objects.select_related("owner", "entitlement").filter(pk=payout_id).first()
    if payout is None:
        logger.warning("payout %s is gone; no %s message", payout_id, event)
        return
    user = payout.owner
    if user is None:
        return  # a settlement to a platform: the platform reads its statement, no personal message
    applicant = getattr(user, "applicant", None)
    phone = applicant.phone if applicant is not None and applicant.phone_verified_at else None
    with translation.override(user.language or "id"):
        reason = payout.entitlement.reason_text
    notify_user(
        user=user,
        template="disbursement_payout",
        context={
            "event": event,
            "amount": format_rupiah(payout.amount),
            "account": f"{payout.get_channel_display()} {payout.masked_number}",
            # SMS stay in plain GSM characters: no bullets.
            "account_sms": f"{payout.get_channel_display()} ****{payout.account_number[-4:]}",
            "reason": reason,
        },
        phone=phone,
        idempotency_key=f"disbursement.payout:{payout.pk}:r{payout.round}:{event}",
    )
