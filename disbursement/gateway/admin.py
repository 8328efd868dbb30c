"""Console for reconciliation: upload a partner statement, see every mismatch, resolve each one.

Uploading and resolving go through ``disbursement.gateway.reconciliation`` services (permission,
audit, money only through the payout transitions and the ledger).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from disbursement.enums import MismatchResolution
from disbursement.gateway.reconciliation import (
    ACTIONS,
    PERMISSION,
    ReconciliationError,
    statement_mismatch_resolve,
    statement_reconcile,
)
from disbursement.models import PartnerStatement, PaymentPartner, StatementMismatch
from prakerja.admin import ReadOnlyAdminMixin
from prakerja.money import format_rupiah


class StatementUploadForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=PaymentPartner.objects.order_by("name"), label=_("Payment partner")
    )
    day = forms.DateField(label=_("Statement day"), widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(label=_("Statement file (CSV)"))


class MismatchResolveForm(forms.Form):
    action = forms.ChoiceField(choices=[c for c in MismatchResolution.choices if c[0]], label=_("Resolution"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


@admin.register(PartnerStatement)
class PartnerStatementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "partner", "day", "row_count", "matched_count", "mismatch_count", "uploaded_at"]
    list_filter = ["partner"]
    list_select_related = ["partner"]
    ordering = ["-id"]
    show_full_result_count = False

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="disbursement_partnerstatement_upload",
            ),
            path(
                "<int:statement_id>/mismatches/",
                self.admin_site.admin_view(self.mismatches_view),
                name="disbursement_partnerstatement_mismatches",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_upload": request.user.has_perm(PERMISSION)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return redirect(reverse("admin:disbursement_partnerstatement_mismatches", args=[object_id]))

    def upload_view(self, request):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                statement = statement_reconcile(
                    partner=form.cleaned_data["partner"],
                    day=form.cleaned_data["day"],
                    content=form.cleaned_data["file"].read(),
                    officer=request.user,
                )
            except ReconciliationError as error:
                form.add_error("file", error.message)
            else:
                messages.success(
                    request,
                    _("%(rows)d rows: %(matched)d matched, %(mismatches)d mismatches.")
                    % {
                        "rows": statement.row_count,
                        "matched": statement.matched_count,
                        "mismatches": statement.mismatch_count,
                    },
                )
                return redirect(
                    reverse("admin:disbursement_partnerstatement_mismatches", args=[statement.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Upload a partner statement"),
            "form": form,
        }
        return TemplateResponse(request, "admin/disbursement/partnerstatement/upload.html", context)

    def mismatches_view(self, request, statement_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        statement = PartnerStatement.objects.select_related("partner").filter(pk=statement_id).first()
        if statement is None:
            raise Http404
        can_resolve = request.user.has_perm(PERMISSION)
        if request.method == "POST":
            if not can_resolve:
                raise PermissionDenied
            form = MismatchResolveForm(request.POST)
            mismatch_id = request.POST.get("mismatch", "")
            if form.is_valid() and mismatch_id.isdigit():
                if not StatementMismatch.objects.filter(pk=int(mismatch_id), statement=statement).exists():
                    raise Http404
                try:
                    statement_mismatch_resolve(
                        mismatch_id=int(mismatch_id),
                        action=form.cleaned_data["action"],
                        officer=request.user,
                        note=form.cleaned_data["note"],
                    )
                except ReconciliationError as error:
                    messages.error(request, error.message)
                else:
                    messages.success(request, _("The mismatch was resolved."))
            else:
                messages.error(request, _("Choose a resolution."))
            return redirect(reverse("admin:disbursement_partnerstatement_mismatches", args=[statement.pk]))
        rows = []
        for mismatch in statement.mismatches.select_related("payout", "resolved_by").order_by("id"):
            rows.append(
                {
                    "mismatch": mismatch,
                    "partner_amount": format_rupiah(mismatch.partner_amount)
                    if mismatch.partner_amount is not None
                    else "",
                    "portal_amount": format_rupiah(mismatch.portal_amount)
                    if mismatch.portal_amount is not None
                    else "",
                    "actions": [(value, MismatchResolution(value).label) for value in ACTIONS[mismatch.kind]],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Statement %(statement)s") % {"statement": statement},
            "statement": statement,
            "rows": rows,
            "can_resolve": can_resolve,
        }
        return TemplateResponse(request, "admin/disbursement/partnerstatement/mismatches.html", context)
