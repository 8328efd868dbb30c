"""Signed webhooks to the digital platforms: an outbox like ``prakerja.notifications``.

    delivery = webhook_queue(voucher_id=voucher.pk, event_type=WebhookEvent.VOUCHER_ISSUED)
    webhook_send(delivery_id=delivery.pk)           # by a task, after commit
    webhooks_sweep()                                # beat, every minute

Services queue an event inside the transaction of the change it announces,
for the voucher's platform and only when the platform has a webhook URL; a
task POSTs it after commit. The request is signed exactly like the platform's
own API requests (``marketplace.api.signing``) with the platform's newest
valid credential, so the platform verifies it with the secret it already has.
``X-Prakerja-Event-Id`` repeats the payload's ``id``: delivery is at least
once, and the platform de-duplicates by it.

    2xx                                  delivered
    408, 429, 5xx, network error         queued again (30 s doubling, at most 1 h) until
                                         MARKETPLACE_WEBHOOK_MAX_ATTEMPTS, then failed
    any other answer (4xx, redirects)    failed at once
    no valid credential, no URL          failed at once

A worker that dies mid-send leaves the row in ``sending``; the sweeper puts it
back in the queue after MARKETPLACE_WEBHOOK_STUCK_AFTER_SECONDS.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from marketplace.api import signing
from marketplace.credentials import CredentialKeyError, secret_decrypt
from marketplace.enums import WebhookEvent, WebhookStatus
from marketplace.models import Platform, PlatformCredential, Voucher, WebhookDelivery
from prakerja.audit import audit_log
from prakerja.outbox import outbox_sweep_due, retry_delay

logger = logging.getLogger(__name__)

HEADER_EVENT = "X-Prakerja-Event"
HEADER_EVENT_ID = "X-Prakerja-Event-Id"
USER_AGENT = "PrakerjaPortal-Webhooks/1"
TASK_BATCH = 10  # a slow platform holds up at most this many deliveries of one task
ERROR_MAX = 300
RETRY_STATUS_CODES = frozenset({408, 429})
CONNECT_TIMEOUT_SECONDS = 3


def _enqueue(ids: list[int]) -> None:
    """Dispatch sends in small batches, on MARKETPLACE_WEBHOOK_QUEUE when one is set.

    A platform that stops answering costs a worker the whole timeout per delivery: in
    production the sends go to their own queue and worker, so they never hold up the
    SMS codes and KYC checks on the default queue.
    """
    # Cycle: marketplace.tasks imports this module.
    from marketplace.tasks import webhooks_send_batch

    queue = settings.MARKETPLACE_WEBHOOK_QUEUE or None
    for start in range(0, len(ids), TASK_BATCH):
        webhooks_send_batch.apply_async((ids[start : start + TASK_BATCH],), queue=queue)


# --- Queueing ---------------------------------------------------------------------


def _key(*, voucher_id: int, event_type: str) -> str:
    return f"voucher:{voucher_id}:{event_type.removeprefix('voucher.')}"


def webhook_queue(*, voucher_id: int, event_type: str) -> WebhookDelivery | None:
    """Queue ``event_type`` about a voucher for its platform; None when the platform has no webhook URL.

    Call it inside the transaction of the change (after the change, so the
    payload shows it); the send is dispatched when that transaction commits.
    Queueing the same event again returns the first row.
    """
    event_type = WebhookEvent(event_type)
    voucher = Voucher.objects.select_related(
        "platform", "purchase__listing", "training__provider", "session"
    ).get(pk=voucher_id)
    if not voucher.platform.webhook_url:
        return None
    key = _key(voucher_id=voucher.pk, event_type=event_type)
    existing = WebhookDelivery.objects.filter(idempotency_key=key).first()
    if existing:
        return existing
    from marketplace.api.buying import voucher_json  # the API imports the services, which import this

    delivery = WebhookDelivery(platform_id=voucher.platform_id, event_type=event_type, idempotency_key=key)
    delivery.payload = {
        "id": str(delivery.event_id),
        "type": event_type.value,
        "created_at": delivery.created_at.isoformat(),
        "data": {"voucher": voucher_json(voucher)},
    }
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        return WebhookDelivery.objects.get(idempotency_key=key)
    transaction.on_commit(lambda: _enqueue([delivery.pk]), robust=True)
    return delivery


# --- Delivery ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error: str
    delivered: bool = False
    transient: bool = False


def _signing_credential(platform: Platform) -> PlatformCredential | None:
    now = timezone.now()
    return (
        platform.credentials.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at", "-id")
        .first()
    )


def _short(text: str) -> str:
    return " ".join(text.split())[:ERROR_MAX]


def _post(delivery: WebhookDelivery) -> _Outcome:
    platform = delivery.platform
    url = platform.webhook_url
    if not url:
        return _Outcome(None, "The platform has no webhook URL any more.")
    if settings.SECURE_HTTPS and urlsplit(url).scheme != "https":
        # Vouchers and redeem codes travel in the payload: never in the clear in production.
        return _Outcome(None, "The webhook URL must use https.")
    credential = _signing_credential(platform)
    if credential is None:
        return _Outcome(None, "The platform has no valid API credential to sign the webhook with.")
    try:
        secret = secret_decrypt(credential.secret_encrypted)
    except CredentialKeyError as exc:
        return _Outcome(None, _short(str(exc)))
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        **signing.signed_headers(
            key_id=credential.key_id, secret=secret, method="POST", path=path, body=body
        ),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        HEADER_EVENT: delivery.event_type,
        HEADER_EVENT_ID: str(delivery.event_id),
    }
    try:
        response = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT_SECONDS, settings.MARKETPLACE_WEBHOOK_TIMEOUT_SECONDS),
            allow_redirects=False,
            stream=True,  # the answer's body is never read beyond the few bytes kept as the error
        )
    except requests.RequestException as exc:
        return _Outcome(None, _short(f"{exc.__class__.__name__}: {exc}"), transient=True)
    with response:
        code = response.status_code
        if 200 <= code < 300:
            return _Outcome(code, "", delivered=True)
        try:
            head = next(response.iter_content(chunk_size=ERROR_MAX), b"")
        except requests.RequestException:
            head = b""
    error = _short(f"HTTP {code} {response.reason or ''}: {head.decode('utf-8', 'replace')}")
    return _Outcome(code, error, transient=code in RETRY_STATUS_CODES or code >= 500)


def webhook_send(*, delivery_id: int) -> str:
    """Make one attempt at delivering a queued, due webhook; returns the resulting status.

    Safe to run twice: only the run that moves the row from queued to sending
    sends it (compare-and-swap); the others return ``"skipped"``.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        id=delivery_id, status=WebhookStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=WebhookStatus.SENDING, sending_started_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("platform").get(id=delivery_id)
    outcome = _post(delivery)
    update = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "sending_started_at": None,
    }
    if outcome.delivered:
        status = WebhookStatus.DELIVERED
        update["delivered_at"] = timezone.now()
    elif outcome.transient and delivery.attempts < settings.MARKETPLACE_WEBHOOK_MAX_ATTEMPTS:
        status = WebhookStatus.QUEUED
        update["next_attempt_at"] = timezone.now() + retry_delay(delivery.attempts)
    else:
        status = WebhookStatus.FAILED
    WebhookDelivery.objects.filter(id=delivery.id, status=WebhookStatus.SENDING).update(
        status=status, **update
    )
    if status != WebhookStatus.DELIVERED:
        log = logger.error if status == WebhookStatus.FAILED else logger.warning
        log(
            "webhook %s to %s (%s) attempt %s: %s",
            delivery.event_id,
            delivery.platform.slug,
            delivery.event_type,
            delivery.attempts,
            outcome.error,
        )
    return status


def webhooks_sweep(*, limit: int | None = None) -> dict[str, int]:
    """Requeue rows stuck in sending and dispatch due ones, at most ``MARKETPLACE_WEBHOOK_SWEEP_BATCH``.

    A dispatched row keeps ``sending_started_at`` as a lease, so the next sweep
    does not dispatch it again while its task waits in the queue; after
    ``MARKETPLACE_WEBHOOK_STUCK_AFTER_SECONDS`` it is dispatched again (the
    claim makes a second task harmless).
    """
    requeued, due = outbox_sweep_due(
        WebhookDelivery,
        queued=WebhookStatus.QUEUED,
        sending=WebhookStatus.SENDING,
        stuck_after_seconds=settings.MARKETPLACE_WEBHOOK_STUCK_AFTER_SECONDS,
        limit=limit or settings.MARKETPLACE_WEBHOOK_SWEEP_BATCH,
    )
    _enqueue(due)
    return {"requeued": requeued, "enqueued": len(due)}


# --- The console ------------------------------------------------------------------


def webhook_retry(*, delivery_id: int, actor) -> bool:
    """Send a failed or queued delivery again now (the console's action); False for any other status.

    A failed delivery gets one more attempt; it is retried further only while
    it is under MARKETPLACE_WEBHOOK_MAX_ATTEMPTS.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status not in (WebhookStatus.QUEUED, WebhookStatus.FAILED):
            return False
        WebhookDelivery.objects.filter(pk=delivery.pk, status=delivery.status).update(
            status=WebhookStatus.QUEUED, next_attempt_at=timezone.now(), sending_started_at=None
        )
        audit_log(
            actor=actor,
            action="marketplace.webhook.retried",
            obj=delivery,
            data={
                "event_id": str(delivery.event_id),
                "event": delivery.event_type,
                "platform": delivery.platform_id,
                "status_before": delivery.status,
                "attempts": delivery.attempts,
            },
        )
        transaction.on_commit(lambda: _enqueue([delivery.pk]), robust=True)
    return True
