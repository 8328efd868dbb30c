"""The Finance officer's console for payouts: partners, payout accounts, entitlements, batches, payouts.

Every write goes through a service (``disbursement.services``) that checks the rule and writes the
audit record; the console only shows and asks. Account numbers are masked in every list and shown in
full only on the payout account's detail page, to officers with ``view_full_account_number``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from disbursement.enums import (
    BatchStatus,
    EntitlementReason,
    PayoutAccountStatus,
    PayoutChannel,
    PayoutStatus,
)
from disbursement.models import Entitlement, PaymentPartner, Payout, PayoutAccount, PayoutBatch
from disbursement.services import (
    BatchError,
    batch_approve,
    batch_cancel,
    batch_prepare,
    batch_progress,
    entitlement_release,
    entitlements_hold_for_owner,
    partner_save,
    payout_move_to_next_batch,
    payout_retry,
)
from disbursement.services.accounts import PayoutAccountError, payout_account_review
from prakerja.admin import CappedCountPaginator, ExactSearchMixin, ReadOnlyAdminMixin
from prakerja.money import format_rupiah, format_rupiah_html


class ConsoleAdmin(ExactSearchMixin, admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    def search_filter(self, term: str) -> Q:
        return Q(owner__email__iexact=term)


# --- Partners ---------------------------------------------------------------------------------------


class PaymentPartnerForm(forms.ModelForm):
    base_url = forms.URLField(label=_("endpoint base URL"), max_length=300, assume_scheme="https")
    channels = forms.MultipleChoiceField(
        label=_("channels"), choices=PayoutChannel.choices, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label=_("API secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current one."),
    )
    callback_secret = forms.CharField(
        label=_("callback secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("The partner signs its callbacks with it. Stored encrypted; leave empty to keep it."),
    )

    class Meta:
        model = PaymentPartner
        fields = ["name", "kind", "channels", "base_url", "key_id", "active", "batch_limit"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not data.get("secret"):
            self.add_error("secret", _("A new partner needs its API secret."))
        return data


@admin.register(PaymentPartner)
class PaymentPartnerAdmin(admin.ModelAdmin):
    form = PaymentPartnerForm
    list_display = ["name", "kind", "channel_list", "base_url", "active", "batch_limit"]
    list_filter = ["kind", "active"]
    fields = [
        "name",
        "kind",
        "channels",
        "base_url",
        "key_id",
        "secret",
        "callback_secret",
        "active",
        "batch_limit",
    ]

    @admin.display(description=_("channels"))
    def channel_list(self, obj):
        return ", ".join(str(PayoutChannel(c).label) for c in obj.channels if c in PayoutChannel.values)

    def has_delete_permission(self, request, obj=None):
        return False  # payouts keep pointing at their partner; deactivate instead

    def save_model(self, request, obj, form, change):
        obj.channels = list(form.cleaned_data["channels"])
        partner_save(
            partner=obj,
            actor=request.user,
            secret=form.cleaned_data.get("secret") or "",
            callback_secret=form.cleaned_data.get("callback_secret") or "",
        )


# --- Payout accounts --------------------------------------------------------------------------------


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("Note (kept in the audit log)"), max_length=500, required=False)


@admin.register(PayoutAccount)
class PayoutAccountAdmin(ReadOnlyAdminMixin, ConsoleAdmin):
    list_display = ["id", "owner", "channel", "masked_number", "holder_name", "status", "payable_from"]
    list_filter = ["status", "channel", "partner"]
    list_select_related = ["owner"]
    search_fields = ["=owner__email"]
    search_help_text = _("Exact email address of the participant.")
    ordering = ["-id"]
    sortable_by = ["id"]
    actions = ["approve_review", "reject_review"]

    def get_fields(self, request, obj=None):
        number = "account_number" if self._full_numbers(request) else "masked_number"
        return [
            "owner",
            "partner",
            "channel",
            number,
            "holder_name",
            "civil_name",
            "status",
            "payable_from",
            "created_at",
            "confirmed_at",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def _full_numbers(self, request) -> bool:
        return request.user.has_perm("disbursement.view_full_account_number")

    @admin.display(description=_("account number"))
    def masked_number(self, obj):
        return obj.masked_number

    @admin.display(description=_("name in the civil registry"))
    def civil_name(self, obj):
        applicant = getattr(obj.owner, "applicant", None)
        return applicant.full_name if applicant else "-"

    def _review(self, request, queryset, approve: bool):
        if not request.user.has_perm("disbursement.review_payoutaccount"):
            raise PermissionDenied
        done = 0
        for account in queryset.filter(status=PayoutAccountStatus.REVIEW):
            try:
                payout_account_review(account_id=account.pk, officer=request.user, approve=approve)
            except PayoutAccountError as exc:
                messages.error(request, exc.message)
            else:
                done += 1
        messages.success(
            request, ngettext("%(n)d account decided.", "%(n)d accounts decided.", done) % {"n": done}
        )

    @admin.action(description=_("Approve the holder name (account in review)"), permissions=["review"])
    def approve_review(self, request, queryset):
        self._review(request, queryset, approve=True)

    @admin.action(description=_("Reject the account (account in review)"), permissions=["review"])
    def reject_review(self, request, queryset):
        self._review(request, queryset, approve=False)

    def has_review_permission(self, request):
        return request.user.has_perm("disbursement.review_payoutaccount")


# --- Entitlements -----------------------------------------------------------------------------------


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdminMixin, ConsoleAdmin):
    list_display = ["id", "owner", "kind", "number", "amount_display", "due_on", "status", "status_reason"]
    list_filter = ["status", "kind", "status_reason"]
    list_select_related = ["owner"]
    search_fields = ["=owner__email"]
    search_help_text = _("Exact email address of the participant.")
    ordering = ["-id"]
    sortable_by = ["id", "due_on"]
    actions = ["hold", "release"]
    fields = [
        "owner",
        "kind",
        "number",
        "amount_display",
        "due_on",
        "status",
        "status_reason",
        "reference",
        "idempotency_key",
        "created_at",
        "accrued_at",
        "paid_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah_html(obj.amount)

    def has_hold_permission(self, request):
        return request.user.has_perm("disbursement.hold_entitlement")

    @admin.action(description=_("Hold every open payment of these people"), permissions=["hold"])
    def hold(self, request, queryset):
        owners = {e.owner for e in queryset.select_related("owner")}
        held = sum(
            entitlements_hold_for_owner(owner=owner, reason=EntitlementReason.OFFICER, actor=request.user)
            for owner in owners
        )
        messages.success(request, ngettext("%(n)d payment held.", "%(n)d payments held.", held) % {"n": held})

    @admin.action(description=_("Release the selected held payments"), permissions=["hold"])
    def release(self, request, queryset):
        released = sum(entitlement_release(entitlement_id=e.pk, actor=request.user) for e in queryset)
        messages.success(
            request,
            ngettext("%(n)d payment released.", "%(n)d payments released.", released) % {"n": released},
        )


# --- Batches ----------------------------------------------------------------------------------------


def awaiting_approver_message(*, batch: PayoutBatch, approvals: int) -> str:
    """Why an approved batch is not sent yet: its total is above PAYOUT_THIRD_APPROVAL_ABOVE."""
    return _(
        "Batch #%(id)s is NOT sent yet: its total %(amount)s is above %(limit)s, so it needs "
        "%(required)d approvals and has %(n)d. Another Finance officer (not the preparer and not an earlier "
        "approver) must approve it too."
    ) % {
        "id": batch.pk,
        "amount": format_rupiah(batch.total_amount),
        "limit": format_rupiah(settings.PAYOUT_THIRD_APPROVAL_ABOVE),
        "required": batch.approvals_required,
        "n": approvals,
    }


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdminMixin, ConsoleAdmin):
    list_display = [
        "id",
        "partner",
        "settlement_account",
        "status",
        "payout_count",
        "total_display",
        "approvals_display",
        "prepared_by",
        "prepared_at",
        "progress_link",
    ]
    list_filter = ["status", "partner", ("settlement_account", admin.EmptyFieldListFilter)]
    list_select_related = ["partner", "prepared_by", "settlement_account"]
    search_fields = []
    ordering = ["-id"]
    sortable_by = ["id"]
    actions = ["approve", "cancel"]
    fields = [
        "partner",
        "settlement_account",
        "status",
        "payout_count",
        "total_display",
        "approvals_required",
        "approvals_display",
        "prepared_by",
        "prepared_at",
        "approved_at",
        "finished_at",
        "progress_link",
    ]
    readonly_fields = fields
    change_list_template = "admin/disbursement/payoutbatch/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("approvals__officer")

    @admin.display(description=_("total"), ordering="total_amount")
    def total_display(self, obj):
        return format_rupiah_html(obj.total_amount)

    @admin.display(description=_("approved by"))
    def approvals_display(self, obj):
        names = [a.officer.email for a in obj.approvals.all()]
        return f"{len(names)}/{obj.approvals_required}" + (f": {', '.join(names)}" if names else "")

    @admin.display(description=_("progress"))
    def progress_link(self, obj):
        url = reverse("admin:disbursement_payoutbatch_progress", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Progress"))

    def has_approve_permission(self, request):
        return request.user.has_perm("disbursement.approve_payoutbatch")

    def has_prepare_permission(self, request):
        return request.user.has_perm("disbursement.prepare_payoutbatch")

    @admin.action(description=_("Approve the selected batches"), permissions=["approve"])
    def approve(self, request, queryset):
        for batch in queryset.filter(status=BatchStatus.PREPARED):
            try:
                batch = batch_approve(batch_id=batch.pk, officer=request.user)
            except BatchError as exc:
                messages.error(request, f"#{batch.pk}: {exc.message}")
            else:
                approvals = batch.approvals.count()
                messages.success(
                    request,
                    _("Batch #%(id)s: approval %(n)d of %(required)d recorded (%(status)s).")
                    % {
                        "id": batch.pk,
                        "n": approvals,
                        "required": batch.approvals_required,
                        "status": batch.get_status_display(),
                    },
                )
                if batch.status == BatchStatus.PREPARED and approvals < batch.approvals_required:
                    messages.warning(request, awaiting_approver_message(batch=batch, approvals=approvals))

    @admin.action(
        description=_("Cancel the selected batches (waiting for approval)"), permissions=["prepare"]
    )
    def cancel(self, request, queryset):
        for batch in queryset:
            try:
                batch_cancel(batch_id=batch.pk, officer=request.user)
            except BatchError as exc:
                messages.error(request, f"#{batch.pk}: {exc.message}")
            else:
                messages.success(request, _("Batch #%(id)s cancelled.") % {"id": batch.pk})

    def get_urls(self):
        return [
            path(
                "prepare/",
                self.admin_site.admin_view(self.prepare_view),
                name="disbursement_payoutbatch_prepare",
            ),
            path(
                "<int:batch_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="disbursement_payoutbatch_progress",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_prepare": self.has_prepare_permission(request)}
        return super().changelist_view(request, extra_context)

    def prepare_view(self, request):
        """POST: prepare one batch per active partner from what is due now (the hourly job does the same)."""
        if not self.has_prepare_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:disbursement_payoutbatch_changelist")
        from disbursement.services import entitlements_accrue_due

        entitlements_accrue_due()
        prepared = 0
        for partner in PaymentPartner.objects.filter(active=True).order_by("id"):
            try:
                batch = batch_prepare(partner=partner, actor=request.user)
            except BatchError as exc:
                messages.error(request, f"{partner}: {exc.message}")
                continue
            if batch is not None:
                prepared += 1
                messages.success(
                    request,
                    _(
                        "Batch #%(id)s for %(partner)s: %(n)d payouts, %(amount)s. Another officer must approve it."
                    )
                    % {
                        "id": batch.pk,
                        "partner": partner,
                        "n": batch.payout_count,
                        "amount": format_rupiah(batch.total_amount),
                    },
                )
        if not prepared:
            messages.info(request, _("Nothing is due for payment with an active payout account."))
        return redirect("admin:disbursement_payoutbatch_changelist")

    def progress_view(self, request, batch_id: int):
        """Sent, accepted, paid, failed and amounts; ``?format=json`` for the page's polling."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = (
            PayoutBatch.objects.select_related("partner", "settlement_account").filter(pk=batch_id).first()
        )
        if batch is None:
            raise Http404
        progress = batch_progress(batch=batch)
        amounts = {k: format_rupiah(v) for k, v in progress.items() if k.endswith("_amount")}
        data = {
            "status": batch.status,
            "status_label": str(batch.get_status_display()),
            "counts": {k: v for k, v in progress.items() if k.endswith("_count")},
            "amounts": amounts,
        }
        if request.GET.get("format") == "json":
            return JsonResponse(data)
        approvals = batch.approvals.count()
        failed = (
            Payout.objects.filter(batch=batch, status=PayoutStatus.FAILED)
            .select_related("owner")
            .order_by("id")[:50]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Batch #%(id)s: progress") % {"id": batch.pk},
            "batch": batch,
            "progress": progress,
            "amounts": amounts,
            "failed": failed,
            "polls": batch.status in (BatchStatus.APPROVED, BatchStatus.SENDING),
            "json_url": reverse("admin:disbursement_payoutbatch_progress", args=[batch.pk]) + "?format=json",
            "can_retry": request.user.has_perm("disbursement.retry_payout"),
            "awaiting_approver": awaiting_approver_message(batch=batch, approvals=approvals)
            if batch.status == BatchStatus.PREPARED and 0 < approvals < batch.approvals_required
            else "",
        }
        return TemplateResponse(request, "admin/disbursement/payoutbatch/progress.html", context)


# --- Payouts ----------------------------------------------------------------------------------------


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdminMixin, ConsoleAdmin):
    list_display = [
        "reference",
        "owner",
        "batch",
        "channel",
        "masked",
        "amount_display",
        "status",
        "failure_code",
        "attempts",
        "updated_at",
    ]
    list_filter = ["status", "channel", "partner"]
    list_select_related = ["owner", "batch__partner"]
    search_fields = ["=reference", "=owner__email"]
    search_help_text = _("Exact reference (PKJ-...) or email address of the participant.")
    ordering = ["-id"]
    sortable_by = ["id"]
    actions = ["retry", "move_to_next_batch"]
    fields = [
        "reference",
        "idempotency_key",
        "owner",
        "settlement_account",
        "batch",
        "entitlement",
        "partner",
        "channel",
        "masked",
        "amount_display",
        "status",
        "round",
        "attempts",
        "partner_reference",
        "failure_code",
        "created_at",
        "sending_at",
        "accepted_at",
        "paid_at",
        "failed_at",
    ]
    readonly_fields = fields

    def search_filter(self, term: str) -> Q:
        return Q(owner__email__iexact=term) if "@" in term else Q(reference=term)

    @admin.display(description=_("account number"))
    def masked(self, obj):
        return obj.masked_number

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah_html(obj.amount)

    def has_retry_permission(self, request):
        return request.user.has_perm("disbursement.retry_payout")

    @admin.action(description=_("Retry the failed payouts (same idempotency key)"), permissions=["retry"])
    def retry(self, request, queryset):
        done = sum(payout_retry(payout_id=p.pk, actor=request.user) for p in queryset)
        messages.success(
            request, ngettext("%(n)d payout queued again.", "%(n)d payouts queued again.", done) % {"n": done}
        )

    @admin.action(description=_("Move the failed payouts to the next batch"), permissions=["retry"])
    def move_to_next_batch(self, request, queryset):
        done = sum(payout_move_to_next_batch(payout_id=p.pk, actor=request.user) for p in queryset)
        messages.success(request, ngettext("%(n)d payout moved.", "%(n)d payouts moved.", done) % {"n": done})
