"""The officers' console for registration.

NIK and KK numbers are masked everywhere (lists, detail pages, exports and
import previews) unless the officer has ``registration.view_full_nik``.
List pages never count millions of rows: ``CappedCountPaginator`` stops
counting at 10,000.
"""

from __future__ import annotations

import contextvars
import datetime
import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin

from prakerja.admin import (
    AuditedDeleteMixin,
    CappedCountPaginator,
    ConsoleImportExportMixin,
    ExactSearchMixin,
    ReadOnlyAdminMixin,
)
from prakerja.audit import audit_entries_for, audit_log
from prakerja.masking import mask_identifier
from registration import imports, services
from registration.admin_imports import PipelineImportAdminMixin
from registration.enums import Gender, ImportKind, ImportStatus
from registration.forms import ImportUploadForm
from registration.import_values import coded_value
from registration.models import (
    Applicant,
    CivilRecord,
    DisnakerStaff,
    District,
    ImportJob,
    OfflineSubmission,
    OfflineSubmissionItem,
    Province,
    Regency,
    ScreeningList,
)
from registration.phones import phone_masked

FULL_NIK_PERMISSION = "registration.view_full_nik"
SIXTEEN_DIGITS = re.compile(r"^\d{16}$")


def can_see_full_nik(user) -> bool:
    return bool(user and user.has_perm(FULL_NIK_PERMISSION))


# The officer whose page is being rendered (display methods only receive ``obj``).
# A context variable is per thread, so concurrent requests never share it.
_viewer: contextvars.ContextVar = contextvars.ContextVar("registration_admin_viewer", default=None)


class MaskingAdminMixin:
    """Show NIK/KK in full only to officers with ``registration.view_full_nik``."""

    def _with_viewer(self, request, view, *args):
        token = _viewer.set(request.user)
        try:
            response = view(request, *args)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response
        finally:
            _viewer.reset(token)

    def changelist_view(self, request, extra_context=None):
        return self._with_viewer(request, super().changelist_view, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._with_viewer(request, super().changeform_view, object_id, form_url, extra_context)

    def show_full(self) -> bool:
        return can_see_full_nik(_viewer.get())


# --- Regions and staff (foundation) ---------------------------------------------


# The region tables (from idn-area-data, loaded by a migration) check every NIK's district: read-only
# in the console; a new release of the data comes with a migration.
@admin.register(Province)
class ProvinceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class TitledRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field filter whose title is given, translated (the field itself has no verbose_name)."""

    custom_title = ""

    @classmethod
    def titled(cls, title):
        return type("TitledRelatedFilter", (cls,), {"custom_title": title})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = self.custom_title


@admin.register(Regency)
class RegencyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "province_name"]
    list_filter = [("province", TitledRelatedFilter.titled(_("province")))]
    search_fields = ["code", "name"]
    list_select_related = ["province"]

    # The region tables' foreign keys carry no verbose_name (a label here avoids a migration of them).
    @admin.display(description=_("province"), ordering="province__name")
    def province_name(self, obj):
        return obj.province


@admin.register(District)
class DistrictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "regency_name"]
    search_fields = ["code", "name"]
    list_select_related = ["regency"]
    show_full_result_count = False

    @admin.display(description=_("regency/city"), ordering="regency__name")
    def regency_name(self, obj):
        return obj.regency


@admin.register(DisnakerStaff)
class DisnakerStaffAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    list_display = ["user", "province", "office_name"]
    list_filter = ["province"]
    search_fields = ["user__email", "office_name"]
    autocomplete_fields = ["user", "province"]
    list_select_related = ["user", "province"]

    def save_model(self, request, obj, form, change):
        # Which province an officer acts for is their permission scope: saved and audited by a service.
        data = form.cleaned_data
        staff = services.disnaker_staff_set(
            staff_id=obj.pk if change else None,
            actor=request.user,
            user=data.get("user", obj.user),
            province=data.get("province", obj.province),
            office_name=data.get("office_name", obj.office_name),
        )
        obj.pk = staff.pk


# --- Masked identifiers in import-export ---------------------------------------------


class IdentifierField(fields.Field):
    """A NIK/KK column that exports masked unless the resource may show it in full."""

    def export(self, instance, **kwargs):
        value = super().export(instance, **kwargs)
        if getattr(self, "show_full", False):
            return value
        return mask_identifier(value)


class MaskingResourceMixin:
    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        show_full = can_see_full_nik(user)
        for field in self.fields.values():
            if isinstance(field, IdentifierField):
                field.show_full = show_full


class ApplicantResource(MaskingResourceMixin, resources.ModelResource):
    nik = IdentifierField(attribute="nik", column_name="nik")
    kk_number = IdentifierField(attribute="kk_number", column_name="kk")
    email = fields.Field(attribute="user__email", column_name="email")
    province = fields.Field(attribute="province__name", column_name="province")
    regency = fields.Field(attribute="regency__name", column_name="regency")

    class Meta:
        model = Applicant
        fields = [
            "id",
            "nik",
            "kk_number",
            "full_name",
            "email",
            "gender",
            "birth_date",
            "province",
            "regency",
            "channel",
            "civil_status",
            "is_excluded",
            "exclusion_reason",
            "is_priority",
            "priority_source",
            "profile_completed_at",
            "phone_verified_at",
            "created_at",
        ]
        export_order = fields

    def get_queryset(self):
        return Applicant.objects.select_related("user", "province", "regency")


class DigitsWidget(widgets.CharWidget):
    """Spaces, dots and dashes removed; the model's validators then check the 16 digits."""

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        if text.endswith(".0"):
            text = text[:-2]
        return "".join(ch for ch in text if ch not in " .-")


class FlexibleDateWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        parsed = imports.parse_date(str(value or ""))
        if parsed is None:
            raise ValueError(gettext("Write the date as DD-MM-YYYY or YYYY-MM-DD."))
        return parsed

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class GenderWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip().lower()
        if not text:
            return ""
        gender = coded_value("jenis_kelamin", text)
        if gender is None:
            raise ValueError(gettext("Write L (male) or P (female)."))
        return gender

    def render(self, value, obj=None, **kwargs):
        return {Gender.MALE: "L", Gender.FEMALE: "P"}.get(value, "")


class CivilRecordResource(MaskingResourceMixin, resources.ModelResource):
    nik = IdentifierField(attribute="nik", column_name="nik", widget=DigitsWidget())
    kk_number = IdentifierField(attribute="kk_number", column_name="no_kk", widget=DigitsWidget())
    full_name = fields.Field(attribute="full_name", column_name="nama")
    birth_place = fields.Field(attribute="birth_place", column_name="tempat_lahir")
    birth_date = fields.Field(
        attribute="birth_date", column_name="tanggal_lahir", widget=FlexibleDateWidget()
    )
    gender = fields.Field(attribute="gender", column_name="jenis_kelamin", widget=GenderWidget())

    class Meta:
        model = CivilRecord
        import_id_fields = ["nik"]
        fields = ["nik", "kk_number", "full_name", "birth_place", "birth_date", "gender"]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_bulk = False


# --- Applicants ----------------------------------------------------------------------


class ProfileCompleteFilter(admin.SimpleListFilter):
    title = _("profile")
    parameter_name = "profile"

    def lookups(self, request, model_admin):
        return [("complete", _("complete")), ("missing", _("missing"))]

    def queryset(self, request, queryset):
        if self.value() == "complete":
            return queryset.filter(profile_completed_at__isnull=False)
        if self.value() == "missing":
            return queryset.filter(profile_completed_at__isnull=True)
        return queryset


class PhoneVerifiedFilter(admin.SimpleListFilter):
    title = _("mobile number")
    parameter_name = "phone"

    def lookups(self, request, model_admin):
        return [("verified", _("verified")), ("unverified", _("not verified"))]

    def queryset(self, request, queryset):
        if self.value() == "verified":
            return queryset.filter(phone_verified_at__isnull=False)
        if self.value() == "unverified":
            return queryset.filter(phone_verified_at__isnull=True)
        return queryset


@admin.register(Applicant)
class ApplicantAdmin(
    ExactSearchMixin, MaskingAdminMixin, ConsoleImportExportMixin, ExportMixin, admin.ModelAdmin
):
    resource_classes = [ApplicantResource]
    export_province_field = "province"
    list_display = [
        "display_name",
        "display_nik",
        "province",
        "civil_status",
        "channel",
        "phone_verified",
        "is_excluded",
        "is_priority",
        "created_at",
    ]
    list_filter = [
        "province",
        "civil_status",
        "channel",
        "is_excluded",
        "is_priority",
        ProfileCompleteFilter,
        PhoneVerifiedFilter,
    ]
    list_select_related = ["user", "province"]
    search_fields = ["full_name"]  # replaced by get_search_results
    search_help_text = _("A 16-digit NIK (exact), an email address (exact), or the start of a name.")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ["-created_at"]
    actions = ["recheck_civil_registry", "reapply_screening_lists"]
    fieldsets = [
        (
            _("Identity"),
            {
                "fields": [
                    "display_nik",
                    "display_kk",
                    "full_name",
                    "birth_place",
                    "birth_date",
                    "gender",
                ]
            },
        ),
        (
            _("Account and contact"),
            {
                "fields": [
                    "user_email",
                    "display_phone",
                    "phone_verified_at",
                    "channel",
                    "registered_by",
                    "claimed_at",
                ]
            },
        ),
        (_("Address"), {"fields": ["address", "province", "regency", "district"]}),
        (
            _("Profile"),
            {
                "fields": [
                    "education",
                    "employment_status",
                    "declarations_version",
                    "declarations_at",
                    "consent_version",
                    "consent_at",
                    "profile_completed_at",
                ]
            },
        ),
        (_("Civil registry"), {"fields": ["civil_status", "civil_checked_at", "civil_mismatch_fields"]}),
        (
            _("Lists"),
            {
                "fields": [
                    "is_excluded",
                    "exclusion_reason",
                    "exclusion_list",
                    "is_priority",
                    "priority_source",
                    "priority_list",
                ]
            },
        ),
        (_("History"), {"fields": ["created_at", "updated_at", "history"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        staff = getattr(request.user, "disnaker", None)
        if staff is not None and not request.user.is_superuser:
            queryset = queryset.filter(province_id=staff.province_id)
        return queryset

    def search_filter(self, term: str) -> Q:
        digits = "".join(ch for ch in term if ch not in " .-")
        if SIXTEEN_DIGITS.match(digits):
            return Q(nik=digits)
        if "@" in term:
            return Q(user__email=term.lower())
        return Q(full_name__istartswith=" ".join(term.split()))

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).select_related("user", "province", "regency")

    @admin.display(description=_("name"), ordering="full_name")
    def display_name(self, obj):
        return obj.full_name or obj.user.email

    @admin.display(description=_("NIK"))
    def display_nik(self, obj):
        return obj.nik if self.show_full() else obj.masked_nik

    @admin.display(description=_("family card number (KK)"))
    def display_kk(self, obj):
        return obj.kk_number if self.show_full() else obj.masked_kk

    @admin.display(description=_("mobile number"))
    def display_phone(self, obj):
        return phone_masked(obj.phone) if obj.phone else "-"

    @admin.display(description=_("email"))
    def user_email(self, obj):
        return obj.user.email

    @admin.display(description=_("mobile verified"), boolean=True)
    def phone_verified(self, obj):
        return obj.phone_verified_at is not None

    @admin.display(description=_("history"))
    def history(self, obj):
        entries = audit_entries_for(obj)[:50]
        if not entries:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (f"{entry.created_at:%Y-%m-%d %H:%M}", entry.actor_repr, entry.action, entry.data)
                for entry in entries
            ),
        )
        return format_html("<table><tbody>{}</tbody></table>", rows)

    @admin.action(description=_("Check again with the civil registry"), permissions=["change"])
    def recheck_civil_registry(self, request, queryset):
        count = services.applicants_civil_recheck(
            applicant_ids=list(queryset.values_list("pk", flat=True)[:10_000]), actor=request.user
        )
        self.message_user(
            request, gettext("%(count)d applicants queued for a new civil-registry check.") % {"count": count}
        )

    @admin.action(description=_("Re-apply the exclusion and priority lists"), permissions=["change"])
    def reapply_screening_lists(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:10_000])
        counts = services.screening_apply(applicant_ids=ids)
        audit_log(
            actor=request.user, action="registration.screening_apply", data={"applicants": len(ids), **counts}
        )
        self.message_user(request, gettext("Lists re-applied: %(counts)s") % {"counts": counts})


# --- Civil registry records ------------------------------------------------------------


class CivilRecordForm(forms.ModelForm):
    class Meta:
        model = CivilRecord
        fields = ["nik", "kk_number", "full_name", "birth_place", "birth_date", "gender"]

    def clean_full_name(self):
        name = services.clean_name(self.cleaned_data["full_name"])
        if not services.name_is_valid(name):
            raise forms.ValidationError(services.PROFILE_ERRORS["name_invalid"])
        return name


@admin.register(CivilRecord)
class CivilRecordAdmin(
    AuditedDeleteMixin,
    ExactSearchMixin,
    MaskingAdminMixin,
    PipelineImportAdminMixin,
    ConsoleImportExportMixin,
    ExportMixin,
    admin.ModelAdmin,
):
    """Imports run on the ImportJob pipeline (kind ``civil_records``); exports stay on import-export."""

    import_kind = "civil_records"
    form = CivilRecordForm
    resource_classes = [CivilRecordResource]
    list_display = ["display_nik", "display_kk", "full_name", "birth_date", "gender", "updated_at"]
    search_fields = ["nik"]
    search_help_text = _("A 16-digit NIK (exact).")
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-updated_at"]

    def get_fields(self, request, obj=None):
        if obj is not None and not can_see_full_nik(request.user):
            return [
                "display_nik",
                "display_kk",
                "full_name",
                "birth_place",
                "birth_date",
                "gender",
                "updated_at",
            ]
        return ["nik", "kk_number", "full_name", "birth_place", "birth_date", "gender"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not can_see_full_nik(request.user):
            return self.get_fields(request, obj)
        if obj is not None:
            return ["nik", "updated_at"]  # a record is keyed by its NIK
        return ["updated_at"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        record = services.civil_record_save(
            record=services.CivilRecordInput(
                nik=obj.nik,
                kk_number=data.get("kk_number", obj.kk_number),
                full_name=data.get("full_name", obj.full_name),
                birth_place=data.get("birth_place", obj.birth_place),
                birth_date=data.get("birth_date", obj.birth_date),
                gender=data.get("gender", obj.gender),
            ),
            actor=request.user,
        )
        obj.pk = record.pk

    def search_filter(self, term: str) -> Q:
        return Q(nik="".join(ch for ch in term if ch.isdigit()))

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    @admin.display(description=_("NIK"))
    def display_nik(self, obj):
        return obj.nik if self.show_full() else obj.masked_nik

    @admin.display(description=_("family card number (KK)"))
    def display_kk(self, obj):
        return obj.kk_number if self.show_full() else mask_identifier(obj.kk_number)


# --- Exclusion and priority lists ----------------------------------------------------------


class ScreeningListForm(forms.ModelForm):
    class Meta:
        model = ScreeningList
        fields = ["kind", "category", "name", "source", "reference_date", "reason", "is_active"]


@admin.register(ScreeningList)
class ScreeningListAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    form = ScreeningListForm
    list_display = [
        "name",
        "kind",
        "category",
        "source",
        "reference_date",
        "entry_count",
        "is_active",
        "last_imported_at",
        "import_link",
    ]
    list_filter = ["kind", "category", "is_active"]
    search_fields = ["name", "source"]
    readonly_fields = ["entry_count", "last_imported_at", "created_at", "created_by"]
    actions = ["activate", "deactivate", "apply_to_all"]

    def save_model(self, request, obj, form, change):
        # The lists decide who is excluded from selection: written and re-applied by the service.
        values = {
            name: form.cleaned_data[name]
            for name in services.SCREENING_LIST_FIELDS
            if name in form.cleaned_data
        }
        saved = services.screening_list_save(
            screening_list_id=obj.pk if change else None, actor=request.user, **values
        )
        obj.pk = saved.pk

    @admin.display(description=_("import"))
    def import_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:registration_screeninglist_import", args=[obj.pk]),
            gettext("Import NIKs"),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/import/",
                self.admin_site.admin_view(self.import_view),
                name="registration_screeninglist_import",
            ),
            path(
                "imports/<int:job_id>/",
                self.admin_site.admin_view(self.import_job_view),
                name="registration_screeninglist_import_job",
            ),
        ] + super().get_urls()

    def import_view(self, request, pk):
        screening_list = get_object_or_404(ScreeningList, pk=pk)
        if not self.has_change_permission(request, screening_list):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = imports.import_job_create(
                    kind=ImportKind.SCREENING_LIST,
                    upload=form.cleaned_data["file"],
                    user=request.user,
                    screening_list=screening_list,
                )
            except imports.ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("admin:registration_screeninglist_import_job", job_id=job.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import NIKs into %(list)s") % {"list": screening_list.name},
            "screening_list": screening_list,
            "form": form,
        }
        return TemplateResponse(request, "admin/registration/screeninglist/import.html", context)

    def import_job_view(self, request, job_id):
        job = get_object_or_404(
            ImportJob.objects.select_related("screening_list"), pk=job_id, kind=ImportKind.SCREENING_LIST
        )
        if not self.has_change_permission(request, job.screening_list):
            raise PermissionDenied
        if request.method == "POST":
            if request.POST.get("action") == "confirm" and imports.import_job_confirm(
                job=job, actor=request.user
            ):
                messages.success(request, gettext("The import has started."))
            elif request.POST.get("action") == "cancel" and imports.import_job_cancel(
                job=job, actor=request.user
            ):
                messages.info(request, gettext("The import is cancelled. The list is unchanged."))
            return redirect("admin:registration_screeninglist_import_job", job_id=job.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import into %(list)s") % {"list": job.screening_list.name},
            "job": job,
            "statuses": ImportStatus,
        }
        return TemplateResponse(request, "admin/registration/screeninglist/import_job.html", context)

    @admin.action(description=_("Activate the selected lists"), permissions=["change"])
    def activate(self, request, queryset):
        for screening_list in queryset:
            services.screening_list_activate(screening_list=screening_list, active=True, actor=request.user)
        self.message_user(request, gettext("Lists activated and re-applied to every applicant."))

    @admin.action(description=_("Deactivate the selected lists"), permissions=["change"])
    def deactivate(self, request, queryset):
        for screening_list in queryset:
            services.screening_list_activate(screening_list=screening_list, active=False, actor=request.user)
        self.message_user(request, gettext("Lists deactivated and every applicant re-screened."))

    @admin.action(description=_("Re-apply all active lists to every applicant"), permissions=["change"])
    def apply_to_all(self, request, queryset):
        counts = services.screening_apply_all(actor=request.user)
        self.message_user(request, gettext("Lists re-applied: %(counts)s") % {"counts": counts})


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind_label",
        "original_name",
        "status",
        "valid_rows",
        "error_count",
        "created_by",
        "province",
    ]
    list_filter = ["kind", "status", "province"]
    list_select_related = ["created_by", "province"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = [
        "kind",
        "status",
        "original_name",
        "created_at",
        "created_by",
        "province",
        "screening_list",
        "consent_confirmed",
        "total_rows",
        "valid_rows",
        "processed_rows",
        "created_rows",
        "error_count",
        "errors",
        "summary",
        "failure",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj):
        return obj.get_kind_display()


class OfflineSubmissionItemInline(admin.TabularInline):
    model = OfflineSubmissionItem
    fields = ["person", "decision", "return_reason", "note", "issues", "duplicates"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("applicant")

    @admin.display(description=_("applicant"))
    def person(self, obj):
        return f"{obj.applicant.full_name} ({obj.applicant.masked_nik})"


@admin.register(OfflineSubmission)
class OfflineSubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: Disnaker sends and Kemnaker decides on the staff pages (registration/kemnaker.py)."""

    list_display = ["__str__", "province", "status", "person_count", "approved_count", "returned_count",
                    "sent_by", "sent_at", "decided_by", "decided_at"]  # fmt: skip
    list_filter = ["status", "province"]
    list_select_related = ["province", "sent_by", "decided_by"]
    fields = ["province", "status", "person_count", "approved_count", "returned_count", "sent_by", "sent_at",
              "decided_by", "decided_at", "note"]  # fmt: skip
    readonly_fields = fields
    inlines = [OfflineSubmissionItemInline]
