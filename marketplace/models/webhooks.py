"""Webhooks to the digital platforms: an outbox of signed event notifications.

    Platform ──< WebhookDelivery        one event (voucher issued, voucher cancelled) for one platform

Rows are written in the transaction of the change they announce and sent
afterwards by a task (``marketplace.webhooks``): ``queued -> sending ->
delivered``, or back to ``queued`` with a later ``next_attempt_at`` after a
transient failure, ``failed`` after the last attempt or a refusal.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.enums import WebhookEvent, WebhookStatus
from marketplace.models.catalog import Platform


class WebhookDelivery(models.Model):
    """One event for one platform and every attempt to deliver it to the platform's webhook URL."""

    platform = models.ForeignKey(
        Platform,
        on_delete=models.PROTECT,
        related_name="webhook_deliveries",
        verbose_name=_("platform"),
        db_index=False,  # webhook_platform_idx leads with it
    )
    event_id = models.UUIDField(
        _("event id"),
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text=_("Sent as X-Prakerja-Event-Id; the platform ignores an id it has already handled."),
    )
    event_type = models.CharField(_("event"), max_length=32, choices=WebhookEvent.choices)
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=100,
        unique=True,
        help_text=_("One row per event: queueing the same event again returns this row."),
    )
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sending_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=400, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        permissions = [("retry_webhookdelivery", _("Can retry a webhook delivery now"))]
        indexes = [
            # The sweeper: rows due for an attempt and rows stuck in sending.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="webhook_due_idx",
                condition=models.Q(status__in=["queued", "sending"]),
            ),
            models.Index(fields=["platform", "-created_at"], name="webhook_platform_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
