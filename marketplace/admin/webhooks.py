"""The officers' console for webhooks sent to the platforms: read-only, one audited action.

"Send again now" calls ``webhooks.webhook_retry`` (audited) and needs
``marketplace.retry_webhookdelivery``. The list never counts more than
CappedCountPaginator's cap; the search is an exact event id (unique index).
"""

from __future__ import annotations

import json
import uuid

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.admin._common import audit_history
from marketplace.models import WebhookDelivery
from marketplace.webhooks import webhook_retry
from prakerja.admin import CappedCountPaginator, ExactSearchMixin, ReadOnlyAdminMixin


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ExactSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "platform", "event_type", "status", "attempts", "last_status_code",
                    "delivered_at"]  # fmt: skip
    list_filter = ["status", "event_type", "platform"]
    list_select_related = ["platform"]
    paginator = CappedCountPaginator
    ordering = ["-id"]  # newest first by the primary key: no sort of the whole table
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    search_fields = ["event_id"]  # shows the search box; the search itself is exact (get_search_results)
    search_help_text = _("Exact event id (X-Prakerja-Event-Id).")
    fields = ["event_id", "platform", "event_type", "status", "attempts", "last_status_code", "last_error",
              "next_attempt_at", "sending_started_at", "delivered_at", "created_at", "idempotency_key",
              "pretty_payload", "history"]  # fmt: skip
    readonly_fields = fields
    actions = ["retry_now"]

    def search_filter(self, term: str) -> Q:
        try:
            return Q(event_id=uuid.UUID(term))
        except ValueError:
            return Q(pk__in=[])

    @admin.display(description=_("payload"))
    def pretty_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.display(description=_("history"))
    def history(self, obj):
        return audit_history(obj)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("marketplace.retry_webhookdelivery")

    @admin.action(description=_("Send again now (failed or queued only)"), permissions=["retry"])
    def retry_now(self, request, queryset):
        retried = skipped = 0
        for delivery_id in queryset.values_list("pk", flat=True):
            if webhook_retry(delivery_id=delivery_id, actor=request.user):
                retried += 1
            else:
                skipped += 1
        if retried:
            self.message_user(
                request,
                ngettext("%d webhook queued to be sent now.", "%d webhooks queued to be sent now.", retried)
                % retried,
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d webhook was not retried: it is being sent or was delivered.",
                    "%d webhooks were not retried: they are being sent or were delivered.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )
