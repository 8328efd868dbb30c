"""Competency assessment in the console.

Officers manage the assessor institutions and their assessor accounts, and mark trainings
(actions on the training list). Assessors (role Competency Assessor) see and record the
results of their own institution only; every write goes through ``marketplace.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from marketplace import services
from marketplace.admin._common import ServiceSaveMixin, audit_history
from marketplace.exceptions import MarketplaceError
from marketplace.models import Assessor, AssessorInstitution, CompetencyAssessment
from prakerja.admin import AuditedDeleteMixin


class AssessorInline(admin.TabularInline):
    model = Assessor
    extra = 1
    fields = ["user"]
    raw_id_fields = ["user"]
    verbose_name = _("assessor account")
    verbose_name_plural = _("assessor accounts")

    def has_change_permission(self, request, obj=None):
        return False  # remove and add again: each is audited


@admin.register(AssessorInstitution)
class AssessorInstitutionAdmin(AuditedDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    list_display = ["name", "licence_number", "active", "contact_email"]
    list_filter = ["active"]
    search_fields = ["name", "licence_number"]
    readonly_fields = ["created_at", "history"]
    inlines = [AssessorInline]

    @admin.display(description=_("history"))
    def history(self, obj):
        return audit_history(obj)

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in services.INSTITUTION_FIELDS if name in form.cleaned_data
        }
        institution = services.assessor_institution_save(
            institution_id=obj.pk if change else None, actor=request.user, **fields
        )
        obj.pk = institution.pk

    def save_formset(self, request, form, formset, change):
        for row in formset.deleted_objects:
            services.assessor_remove(assessor_id=row.pk, actor=request.user)
        for row in formset.save(commit=False):
            if row.pk is None:
                services.assessor_assign(user=row.user, institution_id=form.instance.pk, actor=request.user)


class AssessmentRecordForm(forms.ModelForm):
    verification_code = forms.CharField(
        label=_("Certificate verification code"),
        max_length=40,
        help_text=_("Printed on the participant's training certificate, e.g. 7KQ2-M9XD-4TFA."),
    )

    class Meta:
        model = CompetencyAssessment
        fields = ["result", "assessed_on", "certificate_number"]
        widgets = {"assessed_on": forms.DateInput(attrs={"type": "date"})}


@admin.register(CompetencyAssessment)
class CompetencyAssessmentAdmin(ServiceSaveMixin, admin.ModelAdmin):
    """An assessor sees the results of their own institution and records new ones; nothing is edited."""

    list_display = [
        "completion",
        "training",
        "participant_name",
        "result",
        "assessed_on",
        "certificate_number",
    ]
    list_filter = ["result", "institution"]
    search_fields = ["certificate_number", "completion__certificate_number", "completion__verification_code"]
    list_select_related = [
        "completion__voucher__training",
        "completion__participant__applicant",
        "institution",
    ]
    show_full_result_count = False
    readonly_fields = [
        "completion",
        "institution",
        "result",
        "assessed_on",
        "certificate_number",
        "recorded_at",
        "recorded_by",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        assessor = getattr(request.user, "assessor", None)
        if assessor is not None:
            return queryset.filter(institution_id=assessor.institution_id)
        return queryset

    def get_list_filter(self, request):
        return ["result"] if getattr(request.user, "assessor", None) else self.list_filter

    @admin.display(description=_("training"))
    def training(self, obj):
        return obj.completion.voucher.training

    @admin.display(description=_("participant"))
    def participant_name(self, obj):
        return obj.completion.participant.applicant.full_name

    def has_add_permission(self, request):
        return super().has_add_permission(request) and getattr(request.user, "assessor", None) is not None

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AssessmentRecordForm
            kwargs["fields"] = ["verification_code", "result", "assessed_on", "certificate_number"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["verification_code", "result", "assessed_on", "certificate_number"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        data = form.cleaned_data
        try:
            assessment = services.assessment_record(
                actor=request.user,
                verification_code=data["verification_code"],
                result=data["result"],
                assessed_on=data["assessed_on"],
                certificate_number=data.get("certificate_number") or "",
            )
        except MarketplaceError as exc:
            self.refused(request, exc.message)
            return
        obj.pk = assessment.pk
        obj.completion_id, obj.institution_id = assessment.completion_id, assessment.institution_id
