"""The notification outbox: every email and SMS the programme sends.

Callers queue a message inside their own transaction; a task sends it after
commit. Delivery is at least once: a worker that dies mid-send leaves the row
in SENDING, and the sweeper puts it back in the queue after
``NOTIFICATION_STUCK_AFTER_SECONDS``.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from prakerja.enums import NotificationChannel, NotificationStatus
from prakerja.models import Notification, User
from prakerja.outbox import outbox_sweep_due, retry_delay
from prakerja.sms import SmsError, send_sms

logger = logging.getLogger(__name__)

TASK_BATCH = 100


def _enqueue(ids: list[int]) -> None:
    # Cycle: prakerja.tasks imports this module.
    from prakerja.tasks import notifications_send_batch

    for start in range(0, len(ids), TASK_BATCH):
        notifications_send_batch.delay(ids[start : start + TASK_BATCH])


def notification_queue(
    *,
    channel: str,
    recipient: str,
    body: str,
    subject: str = "",
    user=None,
    idempotency_key: str | None = None,
    sensitive: bool = False,
) -> Notification:
    """Queue one message. With an ``idempotency_key`` a repeat returns the first row."""
    if idempotency_key:
        existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                channel=channel,
                recipient=recipient,
                subject=subject[:200],
                body=body,
                user=user,
                idempotency_key=idempotency_key,
                sensitive=sensitive,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        return Notification.objects.get(idempotency_key=idempotency_key)
    # robust: the row is committed and the sweeper sends it even if the broker is briefly away;
    # that must not turn the caller's finished work (a purchase, a registration) into an error.
    transaction.on_commit(lambda: _enqueue([notification.id]), robust=True)
    return notification


def render_message(template: str, context: dict, *, language: str) -> tuple[str, str, str]:
    """Render ``notifications/<template>`` in ``language``: (subject, email body, sms body).

    Each template has ``.subject.txt``, ``.email.txt`` and ``.sms.txt`` parts.
    """
    with translation.override(language):
        subject = render_to_string(f"notifications/{template}.subject.txt", context).strip()
        email_body = render_to_string(f"notifications/{template}.email.txt", context).strip()
        sms_body = render_to_string(f"notifications/{template}.sms.txt", context).strip()
    return subject, email_body, sms_body


def greeting_name(user) -> str:
    """The name an email greets a person by: the name in their profile, else the account's first name.

    Never the email address. The profile is reached through the reverse relation, so this module does
    not import the registration app.
    """
    applicant = getattr(user, "applicant", None)
    full_name = " ".join((getattr(applicant, "full_name", "") or "").split())
    if full_name:
        return full_name.title()
    return (user.first_name or "").strip()


def notify_user(
    *,
    user,
    template: str,
    context: dict | None = None,
    phone: str | None = None,
    channels: Iterable[str] = (NotificationChannel.EMAIL, NotificationChannel.SMS),
    idempotency_key: str | None = None,
) -> list[Notification]:
    """Queue a templated message to a user by email and, given a phone, SMS, in their language."""
    context = {
        "user": user,
        "site_url": settings.SITE_URL,
        "greeting_name": greeting_name(user),
        **(context or {}),
    }
    subject, email_body, sms_body = render_message(template, context, language=user.language or "id")
    subject = f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}"
    queued = []
    for channel in channels:
        key = f"{idempotency_key}:{channel}" if idempotency_key else None
        if channel == NotificationChannel.EMAIL and user.email:
            queued.append(
                notification_queue(
                    channel=channel,
                    recipient=user.email,
                    subject=subject,
                    body=email_body,
                    user=user,
                    idempotency_key=key,
                )
            )
        elif channel == NotificationChannel.SMS and phone:
            queued.append(
                notification_queue(
                    channel=channel, recipient=phone, body=sms_body, user=user, idempotency_key=key
                )
            )
    return queued


def _deliver(notification: Notification) -> None:
    if notification.channel == NotificationChannel.EMAIL:
        EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[notification.recipient],
        ).send()
    elif notification.channel == NotificationChannel.SMS:
        send_sms(to=notification.recipient, body=notification.body)
    else:
        raise SmsError(f"unknown channel {notification.channel}", transient=False)


def notification_send(*, notification_id: int) -> str:
    """Send one queued message; returns the resulting status. Safe to run twice."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        id=notification_id, status=NotificationStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=NotificationStatus.SENDING, sending_started_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    notification = Notification.objects.get(id=notification_id)
    try:
        _deliver(notification)
    except (TimeoutError, SmsError, smtplib.SMTPException, OSError) as exc:
        transient = getattr(exc, "transient", True) and not isinstance(exc, smtplib.SMTPRecipientsRefused)
        give_up = not transient or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        status = NotificationStatus.FAILED if give_up else NotificationStatus.QUEUED
        Notification.objects.filter(id=notification.id, status=NotificationStatus.SENDING).update(
            status=status,
            last_error=f"{exc.__class__.__name__}: {exc}"[:1000],
            next_attempt_at=now + retry_delay(notification.attempts),
            sending_started_at=None,
        )
        logger.warning("notification %s attempt %s failed: %s", notification.id, notification.attempts, exc)
        return status
    update = {"status": NotificationStatus.SENT, "sent_at": timezone.now(), "last_error": ""}
    if notification.sensitive:
        update["body"] = ""
    Notification.objects.filter(id=notification.id, status=NotificationStatus.SENDING).update(**update)
    return NotificationStatus.SENT


def notifications_sweep(*, limit: int | None = None) -> dict[str, int]:
    """Requeue rows stuck in SENDING and dispatch everything that is due.

    A dispatched row is marked with ``sending_started_at`` (a lease) so the
    next sweep does not dispatch it again while its task is waiting in the
    queue; after ``NOTIFICATION_STUCK_AFTER_SECONDS`` it is dispatched again.
    """
    requeued, due = outbox_sweep_due(
        Notification,
        queued=NotificationStatus.QUEUED,
        sending=NotificationStatus.SENDING,
        stuck_after_seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS,
        limit=limit or settings.NOTIFICATION_SWEEP_BATCH,
    )
    _enqueue(due)
    return {"requeued": requeued, "enqueued": len(due)}


def notification_queue_many(messages: list[dict]) -> int:
    """Queue many messages at once: ``messages`` holds ``notification_queue`` keyword sets (with
    ``user_id`` instead of ``user``), each with an ``idempotency_key``. Keys already queued are skipped (a repeat queues nothing twice); the rest are
    inserted in one statement and sent after commit. Returns how many were queued."""
    keys = [message["idempotency_key"] for message in messages]
    if not all(keys):
        raise ValueError("every message queued in bulk needs an idempotency key")
    known = set(
        Notification.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    rows = [
        Notification(
            channel=message["channel"],
            recipient=message["recipient"],
            subject=message.get("subject", "")[:200],
            body=message["body"],
            user_id=message.get("user_id"),
            idempotency_key=message["idempotency_key"],
            sensitive=message.get("sensitive", False),
        )
        for message in messages
        if message["idempotency_key"] not in known
    ]
    if not rows:
        return 0
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows)
    except IntegrityError:
        # A concurrent caller queued some of the same keys: one by one, each repeat returns the first row.
        for message in messages:
            if message["idempotency_key"] not in known:
                message = dict(message)
                user_id = message.pop("user_id", None)
                notification_queue(**message, user=User.objects.get(pk=user_id) if user_id else None)
        return len(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if len(ids) < len(created):  # a database that does not return ids from bulk inserts
        ids = list(
            Notification.objects.filter(idempotency_key__in=[r.idempotency_key for r in rows]).values_list(
                "id", flat=True
            )
        )
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return len(rows)
