from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin

from cohorts import selection, services
from cohorts.enums import RunKind, RunStatus, WaveStatus
from cohorts.models import Application, Blacklist, Participant, Programme, ProvinceQuota, SelectionRun, Wave
from prakerja.admin import AuditedDeleteMixin, ConsoleImportExportMixin, ReadOnlyAdminMixin
from prakerja.audit import audit_log
from prakerja.masking import mask_identifier
from prakerja.money import format_rupiah
from registration.admin_imports import PipelineImportAdminMixin
from registration.models import Province


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "balance_amount", "end_date", "updated_at"]

    def has_add_permission(self, request):
        return not Programme.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Validated by the form, then written (locked, audited before/after) by the service only.
        values = {
            name: form.cleaned_data[name] for name in services.PROGRAMME_FIELDS if name in form.cleaned_data
        }
        try:
            programme = services.programme_settings_set(actor=request.user, **values)
        except services.CohortError as exc:
            request._console_refused = True
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = programme.pk
        obj.updated_at = programme.updated_at

    def response_change(self, request, obj):
        if getattr(request, "_console_refused", False):
            return redirect(request.path)
        return super().response_change(request, obj)


class ProvinceQuotaInline(admin.TabularInline):
    """Shown on the wave; changed only on the wave's quota page or by import (services)."""

    model = ProvinceQuota
    extra = 0
    can_delete = False
    fields = ["province", "quota"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProvinceQuotaResource(resources.ModelResource):
    wave = fields.Field(
        attribute="wave", column_name="wave", widget=widgets.ForeignKeyWidget(Wave, field="number")
    )
    province = fields.Field(
        attribute="province", column_name="province", widget=widgets.ForeignKeyWidget(Province, field="code")
    )

    class Meta:
        model = ProvinceQuota
        fields = ["wave", "province", "quota"]
        import_id_fields = ["wave", "province"]
        skip_unchanged = True
        report_skipped = True


@admin.register(ProvinceQuota)
class ProvinceQuotaAdmin(PipelineImportAdminMixin, ConsoleImportExportMixin, ExportMixin, admin.ModelAdmin):
    """Read-only list; quotas change on the wave's quota page or through the import pipeline."""

    import_kind = "province_quotas"
    resource_classes = [ProvinceQuotaResource]
    list_display = ["wave", "province", "quota"]
    list_filter = ["wave"]
    list_select_related = ["wave", "province"]
    search_fields = ["province__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SelectionRunInline(admin.TabularInline):
    model = SelectionRun
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "status", "progress", "seed", "created_by", "link"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("details"))
    def link(self, obj):
        if obj.pk is None:  # the inline's empty form, rendered with a form error on the wave
            return ""
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:cohorts_selectionrun_progress", args=[obj.pk]), _("open")
        )


class WaveAdminForm(forms.ModelForm):
    class Meta:
        model = Wave
        fields = list(services.WAVE_FIELDS)

    def clean(self):
        cleaned = super().clean()
        wave = self.instance
        changes_rules = any(name in self.changed_data for name in services.SELECTION_RULES)
        if wave.pk and changes_rules and services.wave_rules_frozen(wave):
            raise forms.ValidationError(
                services.wave_frozen_message(wave)
                if wave.selected_at
                else _("The selection of this wave is running; its rules cannot change now.")
            )
        return cleaned


class WaveQuotasForm(forms.Form):
    """One field per province; empty means no quota (the province shares the total only)."""

    def __init__(self, *args, provinces, current: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        for province in provinces:
            self.fields[f"q_{province.code}"] = forms.IntegerField(
                label=f"{province.code} {province.name}",
                required=False,
                min_value=0,
                max_value=services.MAX_QUOTA,
                initial=current.get(province.code),
            )

    def quotas(self) -> dict[str, int]:
        return {
            name[2:]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("q_") and value is not None
        }


@admin.register(Wave)
class WaveAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    form = WaveAdminForm
    list_display = [
        "number",
        "name",
        "status",
        "opens_at",
        "closes_at",
        "total_quota",
        "selected_at",
        "announced_at",
    ]
    list_filter = ["status"]
    readonly_fields = [
        "status",
        "selection_seed",
        "selection_fingerprint",
        "selected_at",
        "announced_at",
        "created_at",
    ]
    fieldsets = (
        (None, {"fields": ("number", "name", "status")}),
        (_("Registration"), {"fields": ("opens_at", "closes_at")}),
        (_("Rules"), {"fields": ("total_quota", "max_per_kk", "purchase_days")}),
        (
            _("Selection record"),
            {
                "fields": (
                    "selection_seed",
                    "selection_fingerprint",
                    "selected_at",
                    "announced_at",
                    "created_at",
                )
            },
        ),
    )
    inlines = [ProvinceQuotaInline, SelectionRunInline]
    actions = ["open_waves", "close_waves"]
    change_form_template = "admin/cohorts/wave/change_form.html"

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def get_urls(self):
        return [
            path(
                "<int:pk>/selection/",
                self.admin_site.admin_view(self.selection_view),
                name="cohorts_wave_selection",
            ),
            path(
                "<int:pk>/quotas/", self.admin_site.admin_view(self.quotas_view), name="cohorts_wave_quotas"
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        # The form checked the values; the service locks the wave, refuses frozen rules and audits.
        values = {name: form.cleaned_data[name] for name in services.WAVE_FIELDS if name in form.cleaned_data}
        try:
            if change:
                wave = services.wave_rules_set(wave=Wave(pk=obj.pk), actor=request.user, **values)
            else:
                wave = services.wave_create(actor=request.user, **values)
        except services.CohortError as exc:
            request._console_refused = True
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = wave.pk
        obj.status = wave.status

    def response_change(self, request, obj):
        if getattr(request, "_console_refused", False):
            return redirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_console_refused", False):
            return redirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def quotas_view(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        can_change = request.user.has_perm("cohorts.change_provincequota")
        if not (can_change or request.user.has_perm("cohorts.view_provincequota")):
            raise PermissionDenied
        frozen = services.wave_rules_frozen(wave)
        provinces = list(Province.objects.order_by("code"))
        current = dict(ProvinceQuota.objects.filter(wave=wave).values_list("province_id", "quota"))
        form = WaveQuotasForm(request.POST or None, provinces=provinces, current=current)
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            if form.is_valid():
                try:
                    result = services.wave_quotas_set(wave=wave, quotas=form.quotas(), actor=request.user)
                except services.CohortError as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        _("Quotas saved: %(changed)d changed, %(removed)d removed.") % result,
                        messages.SUCCESS,
                    )
                    return redirect("admin:cohorts_wave_quotas", wave.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Province quotas: %(wave)s") % {"wave": wave},
            "wave": wave,
            "opts": self.model._meta,
            "form": form,
            "can_change": can_change and not frozen,
            "frozen_message": services.wave_frozen_message(wave) if wave.selected_at else "",
            "quota_sum": sum(current.values()),
        }
        return TemplateResponse(request, "admin/cohorts/wave/quotas.html", context)

    @admin.action(description=_("Open the selected waves for registration"), permissions=["change"])
    def open_waves(self, request, queryset):
        for wave in queryset:
            try:
                services.wave_open(wave=wave, actor=request.user)
                self.message_user(request, _("%(wave)s is open.") % {"wave": wave}, messages.SUCCESS)
            except services.CohortError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description=_("Close registration for the selected waves"), permissions=["change"])
    def close_waves(self, request, queryset):
        for wave in queryset:
            try:
                services.wave_close(wave=wave, actor=request.user)
                self.message_user(request, _("%(wave)s is closed.") % {"wave": wave}, messages.SUCCESS)
            except services.CohortError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    def selection_view(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        can_select = request.user.has_perm("cohorts.run_selection")
        can_announce = request.user.has_perm("cohorts.announce_wave")
        if not (can_select or can_announce or request.user.has_perm("cohorts.view_wave")):
            raise PermissionDenied
        verification = None
        if request.method == "POST":
            action = request.POST.get("action")
            kinds = {
                "dry_run": RunKind.DRY_RUN,
                "select": RunKind.SELECTION,
                "announce": RunKind.ANNOUNCEMENT,
            }
            if action == "verify":
                verification = selection.selection_verify(wave=wave)
                audit_log(
                    actor=request.user, action="cohorts.selection_verified", obj=wave, data=verification
                )
            elif action in kinds:
                kind = kinds[action]
                if (kind == RunKind.ANNOUNCEMENT and not can_announce) or (
                    kind != RunKind.ANNOUNCEMENT and not can_select
                ):
                    raise PermissionDenied
                if kind == RunKind.SELECTION and not request.POST.get("confirm"):
                    self.message_user(
                        request, _("Tick the confirmation box to commit the selection."), messages.ERROR
                    )
                else:
                    try:
                        run = services.selection_run_request(
                            wave=wave, kind=kind, seed=request.POST.get("seed", ""), actor=request.user
                        )
                    except services.CohortError as exc:
                        self.message_user(request, str(exc), messages.ERROR)
                    else:
                        return redirect("admin:cohorts_selectionrun_progress", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Selection: %(wave)s") % {"wave": wave},
            "wave": wave,
            "opts": self.model._meta,
            "runs": wave.runs.select_related("created_by")[:10],
            "can_select": can_select
            and wave.status in (WaveStatus.CLOSED, WaveStatus.SELECTING)
            and not wave.selected_at,
            "can_announce": can_announce and bool(wave.selected_at) and not wave.announced_at,
            "verification": verification,
            "quota_count": wave.province_quotas.count(),
        }
        return TemplateResponse(request, "admin/cohorts/wave/selection.html", context)


@admin.register(SelectionRun)
class SelectionRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "wave", "kind", "status", "progress", "created_by"]
    list_filter = ["kind", "status", "wave"]
    list_select_related = ["wave", "created_by"]
    fields = ["wave", "kind", "status", "progress", "stage", "seed", "fingerprint", "result", "error", "created_by",
              "created_at", "started_at", "finished_at"]  # fmt: skip
    readonly_fields = fields

    def get_urls(self):
        return [
            path(
                "<int:pk>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="cohorts_selectionrun_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(SelectionRun.objects.select_related("wave"), pk=pk)
        if request.GET.get("format") == "json":
            return JsonResponse(
                {
                    "status": run.status,
                    "progress": run.progress,
                    "stage": run.stage,
                    "done": run.status in (RunStatus.DONE, RunStatus.FAILED),
                }
            )
        provinces = []
        if run.result.get("provinces"):
            names = dict(Province.objects.values_list("code", "name"))
            provinces = [
                {"code": code, "name": names.get(code, code), **row}
                for code, row in run.result["provinces"].items()
            ]
        quota_sum = sum(row["quota"] or 0 for row in provinces) if provinces else 0
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(kind)s: %(wave)s") % {"kind": run.get_kind_display(), "wave": run.wave},
            "run": run,
            "opts": self.model._meta,
            "provinces": provinces,
            "ineligible": [
                (INELIGIBLE_LABELS.get(code, code), n)
                for code, n in (run.result.get("ineligible") or {}).items()
            ],
            # Quotas adding up to more than the total: the total cuts across provinces after them.
            "total_cut": quota_sum > run.wave.total_quota and bool(provinces),
            "quota_sum": quota_sum,
            "running": run.status in (RunStatus.QUEUED, RunStatus.RUNNING),
        }
        return TemplateResponse(request, "admin/cohorts/selectionrun/progress.html", context)


INELIGIBLE_LABELS = {
    "participant": _("already a participant"),
    "blacklisted": _("barred from later waves (blacklist)"),
    "excluded": _("on an exclusion list"),
    "frozen": _("on hold: a report about the NIK is being checked"),
    "kemnaker_pending": _("offline registration not approved by Kemnaker"),
    "nik_not_verified": _("NIK not verified by the civil registry"),
    "kyc_not_verified": _("identity (KYC) not verified"),
}


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["applicant", "wave", "province", "is_priority", "status", "draw_rank", "created_at"]
    list_filter = ["wave", "status", "is_priority", "province"]
    list_select_related = ["applicant", "applicant__user", "wave", "province"]
    search_fields = ["=applicant__nik", "applicant__user__email"]
    show_full_result_count = False
    fields = ["applicant", "wave", "province", "kk_number_masked", "is_priority", "status", "ineligible_reason",
              "draw_rank", "created_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("family card number (KK)"))
    def kk_number_masked(self, obj):
        return mask_identifier(obj.kk_number)


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "masked_card_number",
        "applicant",
        "wave",
        "status",
        "balance",
        "purchase_deadline",
        "first_purchase_at",
    ]
    list_filter = ["wave", "status"]
    list_select_related = ["applicant", "applicant__user", "wave", "balance_account"]
    search_fields = ["=card_number", "=applicant__nik", "applicant__user__email"]
    show_full_result_count = False
    fields = ["masked_card_number", "applicant", "wave", "status", "balance", "purchase_deadline", "first_purchase_at",
              "revoked_at", "revoke_reason", "created_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("card number"), ordering="card_number")
    def masked_card_number(self, obj):
        return obj.masked_card_number

    @admin.display(description=_("training balance"))
    def balance(self, obj):
        return format_rupiah(obj.balance_account.balance)


@admin.register(Blacklist)
class BlacklistAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    list_display = ["applicant", "reason", "wave", "created_at", "created_by"]
    list_filter = ["wave"]
    list_select_related = ["applicant", "applicant__user", "wave", "created_by"]
    search_fields = ["=applicant__nik", "applicant__user__email"]
    autocomplete_fields = ["applicant"]
    fields = ["applicant", "reason"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        entry = services.blacklist_add(applicant=obj.applicant, reason=obj.reason, actor=request.user)
        obj.pk = entry.pk
