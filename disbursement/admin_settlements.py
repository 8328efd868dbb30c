"""The Finance officer's console for settlements to the digital platforms.

One row per platform (created by marketplace): its settlement bank account (masked), a statement page
with every redeemed voucher, its amount, batch and status (CSV download), and the two actions that
move money, each a service call that checks the permission and writes the audit record:
register the bank account (``settlement_bank_account_set``, after the password is confirmed again) and
prepare a settlement (``settlement_batch_prepare``). Approval is the payout batches' own action (another
officer, the two-person rule).
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from disbursement.enums import EWALLET_CHANNELS, PayoutChannel, SettlementState
from disbursement.models import PaymentPartner, SettlementAccount
from disbursement.services.settlements import (
    SettlementError,
    settlement_bank_account_set,
    settlement_batch_prepare,
    settlement_item_state,
    settlement_items,
    settlement_statement_csv,
    settlement_summary,
)
from prakerja.admin import ReadOnlyAdminMixin
from prakerja.money import format_rupiah

STATEMENT_ROWS = 500  # on the page; the CSV has every row

BANK_CHANNELS = [(value, label) for value, label in PayoutChannel.choices if value not in EWALLET_CHANNELS]


class SettlementBankForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=_("payment partner"), queryset=PaymentPartner.objects.filter(active=True).order_by("name")
    )
    channel = forms.ChoiceField(label=_("account type"), choices=BANK_CHANNELS)
    account_number = forms.CharField(
        label=_("account number"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_("Stored encrypted and shown masked; only the payout to the bank carries it in full."),
    )
    holder_name = forms.CharField(label=_("account holder"), max_length=200)


@admin.register(SettlementAccount)
class SettlementAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "bank_display", "holder_name", "updated_at", "statement_link"]
    list_select_related = ["partner"]
    search_fields = ["name"]
    ordering = ["name"]
    sortable_by = ["name"]
    show_facets = admin.ShowFacets.NEVER
    fields = [
        "name",
        "reference",
        "payable_code",
        "partner",
        "channel",
        "account_number_masked",
        "holder_name",
        "updated_at",
        "updated_by",
        "statement_link",
    ]
    readonly_fields = fields

    @admin.display(description=_("bank account"))
    def bank_display(self, obj):
        if not obj.has_bank_account:
            return _("not registered yet")
        return f"{obj.get_channel_display()} {obj.account_number_masked}"

    @admin.display(description=_("statement"))
    def statement_link(self, obj):
        url = reverse("admin:disbursement_settlementaccount_statement", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Statement"))

    def _may_prepare(self, request) -> bool:
        return request.user.has_perm("disbursement.prepare_payoutbatch")

    def _may_set_bank(self, request) -> bool:
        return request.user.has_perm("disbursement.change_settlementaccount")

    def get_urls(self):
        return [
            path(
                "<int:account_id>/statement/",
                self.admin_site.admin_view(self.statement_view),
                name="disbursement_settlementaccount_statement",
            ),
            path(
                "<int:account_id>/prepare/",
                self.admin_site.admin_view(self.prepare_view),
                name="disbursement_settlementaccount_prepare",
            ),
            path(
                "<int:account_id>/bank/",
                self.admin_site.admin_view(self.bank_view),
                name="disbursement_settlementaccount_bank",
            ),
            *super().get_urls(),
        ]

    def _account(self, account_id: int) -> SettlementAccount:
        account = SettlementAccount.objects.select_related("partner").filter(pk=account_id).first()
        if account is None:
            raise Http404
        return account

    def statement_view(self, request, account_id: int):
        """Every voucher of the platform with its amount, batch and status; ``?format=csv`` downloads it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        account = self._account(account_id)
        if request.GET.get("format") == "csv":
            response = HttpResponse(
                settlement_statement_csv(account=account), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="settlement-{account.pk}.csv"'
            return response
        items = list(settlement_items(account=account)[:STATEMENT_ROWS])
        rows = [(item, SettlementState(settlement_item_state(item))) for item in items]
        summary = settlement_summary(account=account)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Settlement statement: %(name)s") % {"name": account.name},
            "account": account,
            "rows": rows,
            "truncated": len(items) == STATEMENT_ROWS,
            "summary": summary,
            "money": {k: format_rupiah(v) for k, v in summary.items() if k.endswith(("_amount", "_balance"))},
            "can_prepare": self._may_prepare(request)
            and summary["open_count"] > 0
            and account.has_bank_account,
            "can_set_bank": self._may_set_bank(request),
            "csv_url": reverse("admin:disbursement_settlementaccount_statement", args=[account.pk])
            + "?format=csv",
        }
        return TemplateResponse(request, "admin/disbursement/settlementaccount/statement.html", context)

    def prepare_view(self, request, account_id: int):
        """POST: one batch with every open voucher of this platform, for another officer to approve."""
        if not self._may_prepare(request):
            raise PermissionDenied
        account = self._account(account_id)
        back = redirect("admin:disbursement_settlementaccount_statement", account.pk)
        if request.method != "POST":
            return back
        try:
            batch = settlement_batch_prepare(account_id=account.pk, actor=request.user)
        except SettlementError as exc:
            messages.error(request, exc.message)
            return back
        if batch is None:
            messages.info(request, _("Nothing to settle: every redeemed voucher is already in a settlement."))
            return back
        messages.success(
            request,
            _("Settlement batch #%(id)s for %(name)s: %(amount)s. Another officer must approve it.")
            % {"id": batch.pk, "name": account.name, "amount": format_rupiah(batch.total_amount)},
        )
        return back

    def bank_view(self, request, account_id: int):
        if not self._may_set_bank(request):
            raise PermissionDenied
        return reauthentication_required(self._bank_form)(request, account_id)

    def _bank_form(self, request, account_id: int):
        account = self._account(account_id)
        initial = {
            "partner": account.partner_id,
            "channel": account.channel,
            "holder_name": account.holder_name,
        }
        form = SettlementBankForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                settlement_bank_account_set(
                    account_id=account.pk,
                    partner=form.cleaned_data["partner"],
                    channel=form.cleaned_data["channel"],
                    account_number=form.cleaned_data["account_number"],
                    holder_name=form.cleaned_data["holder_name"],
                    actor=request.user,
                )
            except SettlementError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("The settlement bank account of %(name)s is saved.") % {"name": account.name}
                )
                return redirect("admin:disbursement_settlementaccount_statement", account.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Settlement bank account: %(name)s") % {"name": account.name},
            "account": account,
            "form": form,
        }
        return TemplateResponse(request, "admin/disbursement/settlementaccount/bank.html", context)
