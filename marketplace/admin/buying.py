"""The officers' console for purchases, vouchers and completions.

Read-only records: money moved through the ledger and platforms' reports are
never edited here. The one action, cancelling a voucher with a refund, calls
``services.voucher_cancel`` (audited) and needs ``marketplace.cancel_voucher``.
Lists never count more than CappedCountPaginator's cap, and searches are exact
matches on indexed columns (voucher code, card number, certificate number).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace import services
from marketplace.admin._common import audit_history, with_reason
from marketplace.codes import code_normalize
from marketplace.enums import CancelledBy
from marketplace.models import Completion, Purchase, Voucher
from prakerja.admin import CappedCountPaginator, ExactSearchMixin, ReadOnlyAdminMixin
from prakerja.money import format_rupiah


class BuyingAdmin(ExactSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    @admin.display(description=_("card number"))
    def card(self, obj):
        return obj.participant.masked_card_number

    @admin.display(description=_("history"))
    def history(self, obj):
        return audit_history(obj)


@admin.register(Purchase)
class PurchaseAdmin(BuyingAdmin):
    list_display = ["id", "created_at", "card", "training", "platform", "amount", "channel", "status"]
    list_filter = ["status", "channel", "platform"]
    list_select_related = ["participant", "listing__training", "platform"]
    search_help_text = _("Exact voucher code, card number or purchase number.")
    search_fields = ["id"]  # shows the search box; the search itself is search_filter
    fields = ["id", "card", "training", "platform", "listing", "session", "amount", "channel", "status",
              "failure_code", "created_at", "code_sent_at", "paid_at", "failed_at", "refunded_at", "movement",
              "refund_movement", "history"]  # fmt: skip
    readonly_fields = fields

    def search_filter(self, term: str) -> Q:
        query = Q(voucher__code=code_normalize(term) or "-") | Q(
            participant__card_number=term.replace(" ", "")
        )
        if term.isdigit() and len(term) < 16:
            query |= Q(pk=int(term))
        return query

    @admin.display(description=_("training"))
    def training(self, obj):
        return obj.listing.training

    @admin.display(description=_("price"), ordering="price")
    def amount(self, obj):
        return format_rupiah(obj.price)


@admin.register(Voucher)
class VoucherAdmin(BuyingAdmin):
    list_display = ["display_code", "issued_at", "card", "training", "platform", "status", "redeemed_at"]
    list_filter = ["status", "platform"]
    list_select_related = ["participant", "training", "platform"]
    search_help_text = _("Exact voucher code or card number.")
    search_fields = ["code"]
    fields = ["display_code", "status", "card", "training", "platform", "session", "purchase", "issued_at",
              "display_redeem_code", "redeemed_at", "cancelled_at", "cancelled_by", "cancel_reason", "completed_at",
              "certificate", "history"]  # fmt: skip
    readonly_fields = fields
    actions = ["cancel_and_refund"]

    def search_filter(self, term: str) -> Q:
        return Q(code=code_normalize(term) or "-") | Q(participant__card_number=term.replace(" ", ""))

    @admin.display(description=_("voucher code"), ordering="code")
    def display_code(self, obj):
        return obj.display_code

    @admin.display(description=_("redeem code"))
    def display_redeem_code(self, obj):
        return obj.display_redeem_code or "-"

    @admin.display(description=_("certificate"))
    def certificate(self, obj):
        completion = Completion.objects.filter(voucher=obj).first()
        if completion is None:
            return "-"
        return f"{completion.certificate_number} · {completion.score}"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("marketplace.cancel_voucher"):
            actions.pop("cancel_and_refund", None)
        return actions

    @admin.action(description=_("Cancel the voucher and refund the balance (unredeemed only)"))
    def cancel_and_refund(self, request, queryset):
        if not request.user.has_perm("marketplace.cancel_voucher"):
            raise PermissionDenied
        return with_reason(
            self,
            request,
            queryset,
            title=_("Cancel vouchers and refund the balance"),
            call=lambda voucher, reason: services.voucher_cancel(
                voucher_id=voucher.pk, by=CancelledBy.OFFICER, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d vouchers cancelled and refunded."),
        )


@admin.register(Completion)
class CompletionAdmin(BuyingAdmin):
    list_display = ["certificate_number", "recorded_at", "card", "platform", "score", "counts_for_incentive"]
    list_filter = ["counts_for_incentive", "platform"]
    list_select_related = ["participant", "platform"]
    search_help_text = _("Exact certificate number, voucher code or card number.")
    search_fields = ["certificate_number"]
    fields = ["certificate_number", "voucher", "card", "platform", "score", "completed_at", "recorded_at",
              "counts_for_incentive", "reported_by"]  # fmt: skip
    readonly_fields = fields

    def search_filter(self, term: str) -> Q:
        return (
            Q(certificate_number=term)
            | Q(voucher__code=code_normalize(term) or "-")
            | Q(participant__card_number=term.replace(" ", ""))
        )
