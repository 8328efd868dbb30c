"""Messages to a person about their payouts (SMS and email, in their language, through the outbox)."""

from __future__ import annotations

import logging

from django.utils import translation
from django.utils.html import conditional_escape

from disbursement.enums import EntitlementReason, PayoutChannel
from disbursement.models import Payout, mask_account_number
from prakerja.enums import NotificationChannel
from prakerja.money import format_rupiah
from prakerja.notifications import notification_queue_many, notify_user, render_message

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


# Stand-ins rendered in place of each person's values, so that the templates are rendered once per
# language and event rather than once per payout (rendering was most of the cost of a bulk send).
_SLOTS = {
    "name": "\x00name\x00",
    "amount": "\x00amount\x00",
    "account": "\x00account\x00",
    "account_sms": "\x00account_sms\x00",
    "reason": "\x00reason\x00",
}


class _Person:
    first_name = _SLOTS["name"]
    email = ""


def _rendered(*, event: str, language: str) -> tuple[str, str, str]:
    from django.conf import settings

    subject, email_body, sms_body = render_message(
        "disbursement_payout",
        {
            "user": _Person(),
            "site_url": settings.SITE_URL,
            "event": event,
            **{name: slot for name, slot in _SLOTS.items() if name != "name"},
        },
        language=language,
    )
    return f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", email_body, sms_body


def _fill(text: str, values: dict[str, str]) -> str:
    for name, slot in _SLOTS.items():
        if slot in text:
            text = text.replace(slot, str(conditional_escape(values[name])))
    return text


def payouts_notify(*, payout_ids: list[int], event: str) -> int:
    """``payout_notify`` for many payouts: the same messages and idempotency keys, queued in bulk.

    Reads plain values (no model instances) and renders the templates once per language; returns how
    many messages were queued.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown payout event {event!r}")
    rows = Payout.objects.filter(pk__in=list(payout_ids)).values_list(
        "id", "round", "amount", "channel", "account_number", "owner_id", "owner__email",
        "owner__first_name", "owner__language", "owner__applicant__phone",
        "owner__applicant__phone_verified_at", "entitlement__status_reason",
    )  # fmt: skip
    channels = {value: str(label) for value, label in PayoutChannel.choices}  # in the active language
    rendered: dict[str, tuple[str, str, str]] = {}
    reasons: dict[tuple[str, str], str] = {}
    messages = []
    for (
        payout_id, round_, amount, channel, number, owner_id, email, first_name, language, phone,
        phone_verified_at, status_reason,
    ) in rows:  # fmt: skip
        language = language or "id"
        if language not in rendered:
            rendered[language] = _rendered(event=event, language=language)
        subject, email_body, sms_body = rendered[language]
        if (language, status_reason) not in reasons:
            with translation.override(language):
                reasons[language, status_reason] = (
                    str(EntitlementReason(status_reason).label) if status_reason else ""
                )
        values = {
            "name": first_name or email,
            "amount": format_rupiah(amount),
            "account": f"{channels.get(channel, channel)} {mask_account_number(number)}",
            "account_sms": f"{channels.get(channel, channel)} ****{number[-4:]}",
            "reason": reasons[language, status_reason],
        }
        key = f"disbursement.payout:{payout_id}:r{round_}:{event}"
        if email:
            messages.append(
                {
                    "channel": NotificationChannel.EMAIL, "recipient": email, "user_id": owner_id,
                    "subject": _fill(subject, values), "body": _fill(email_body, values),
                    "idempotency_key": f"{key}:{NotificationChannel.EMAIL}",
                }
            )  # fmt: skip
        if phone and phone_verified_at:
            messages.append(
                {
                    "channel": NotificationChannel.SMS, "recipient": phone, "user_id": owner_id,
                    "body": _fill(sms_body, values), "idempotency_key": f"{key}:{NotificationChannel.SMS}",
                }
            )  # fmt: skip
    return notification_queue_many(messages) if messages else 0
