"""Console: ratings (hide abusive reviews, curation numbers), evaluation surveys (versions, results, export).

Every change calls a service in ``surveys.services`` (which audits it); a published version is read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from prakerja.admin import CappedCountPaginator, ExactSearchMixin
from prakerja.audit import audit_log
from surveys import services
from surveys.enums import QuestionKind, VersionStatus
from surveys.exceptions import SurveyError
from surveys.exports import export_csv_stream, export_xlsx
from surveys.forms import HideReviewForm
from surveys.models import Question, Rating, Survey, SurveyAssignment, SurveyVersion
from surveys.selectors import provider_assessments_attach, rating_aggregates, survey_results

# --- Ratings ------------------------------------------------------------------------------


class HiddenFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return [("yes", _("Hidden")), ("no", _("Shown"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(hidden_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(hidden_at__isnull=True)
        return queryset


class StarsFilter(admin.SimpleListFilter):
    """Fixed choices: listing the distinct values would scan every rating."""

    title = _("stars (1-5)")
    parameter_name = "stars"

    def lookups(self, request, model_admin):
        return [(str(n), "★" * n) for n in range(1, 6)]

    def queryset(self, request, queryset):
        return (
            queryset.filter(stars=int(self.value()))
            if self.value() in {"1", "2", "3", "4", "5"}
            else queryset
        )


@admin.register(Rating)
class RatingAdmin(ExactSearchMixin, admin.ModelAdmin):
    list_display = ("id", "stars", "training", "provider", "review_short", "created_at", "hidden_at")
    list_filter = (StarsFilter, HiddenFilter, "counts_for_incentive")
    ordering = ("-id",)  # newest first by the primary key: no sort over millions of rows
    list_select_related = ("training", "provider")
    search_help_text = _("Training id (exact).")
    search_fields = ("training__id",)
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = ["hide_review", "show_review"]
    readonly_fields = [f.name for f in Rating._meta.fields]
    change_list_template = "admin/surveys/rating/change_list.html"

    def search_filter(self, term: str) -> Q:
        return Q(training_id=int(term)) if term.isdigit() else Q(pk__in=[])

    @admin.display(description=_("review"))
    def review_short(self, obj: Rating) -> str:
        return obj.review[:80]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Hide the review (the stars still count)"), permissions=["hide"])
    def hide_review(self, request, queryset):
        if "apply" in request.POST:
            form = HideReviewForm(request.POST)
            if form.is_valid():
                done = sum(
                    services.rating_hide(
                        rating_id=r.pk, reason=form.cleaned_data["reason"], actor=request.user
                    )
                    for r in queryset
                )
                self.message_user(request, _("%(count)s reviews hidden.") % {"count": done}, messages.SUCCESS)
                return None
        else:
            form = HideReviewForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Hide reviews"),
            "objects": queryset,
            "form": form,
            "action": "hide_review",
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/surveys/hide_review.html", context)

    @admin.action(description=_("Show the review again"), permissions=["hide"])
    def show_review(self, request, queryset):
        done = sum(services.rating_unhide(rating_id=r.pk, actor=request.user) for r in queryset)
        self.message_user(request, _("%(count)s reviews shown again.") % {"count": done}, messages.SUCCESS)

    def has_hide_permission(self, request) -> bool:
        return request.user.has_perm("surveys.hide_review")

    def get_urls(self):
        return [
            path("kualitas/", self.admin_site.admin_view(self.quality_view), name="surveys_rating_quality"),
            *super().get_urls(),
        ]

    def quality_view(self, request):
        """Per provider and per training: average, distribution, count, share of low ratings (grouped queries)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        provider = request.GET.get("provider", "")
        order = "-average" if request.GET.get("order") == "average" else "-low_share"
        training_filter = Q(provider_id=int(provider)) if provider.isdigit() else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Ratings per provider and training"),
            "opts": self.model._meta,
            "providers": provider_assessments_attach(rating_aggregates(group_by="provider", order=order)),
            "trainings": rating_aggregates(group_by="training", filters=training_filter, order=order),
            "provider_filter": provider,
            "order": order,
        }
        return TemplateResponse(request, "admin/surveys/rating_quality.html", context)


# --- Surveys ------------------------------------------------------------------------------


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = (
            "number",
            "title_id",
            "title_en",
            "intro_id",
            "intro_en",
            "opens_after_days",
            "open_days",
            "is_active",
        )


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    form = SurveyForm
    list_display = ("number", "title_id", "opens_after_days", "open_days", "is_active", "links")
    change_form_template = "admin/surveys/survey/change_form.html"

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("pages"))
    def links(self, obj: Survey) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:surveys_survey_edit", args=[obj.pk]),
            _("Edit questions"),
            reverse("admin:surveys_survey_results", args=[obj.pk]),
            _("Results"),
        )

    def save_model(self, request, obj, form, change):
        # Windows already given keep their dates; new windows use the new days.
        obj.save()
        audit_log(
            actor=request.user,
            action="surveys.survey.saved",
            obj=obj,
            data={
                "changed": form.changed_data,
                "opens_after_days": obj.opens_after_days,
                "open_days": obj.open_days,
            },
        )

    def get_urls(self):
        return [
            path(
                "<int:survey_id>/ubah-pertanyaan/",
                self.admin_site.admin_view(self.edit_view),
                name="surveys_survey_edit",
            ),
            path(
                "<int:survey_id>/hasil/",
                self.admin_site.admin_view(self.results_view),
                name="surveys_survey_results",
            ),
            path(
                "<int:survey_id>/ekspor/",
                self.admin_site.admin_view(self.export_view),
                name="surveys_survey_export",
            ),
            *super().get_urls(),
        ]

    def edit_view(self, request, survey_id: int):
        """Open (or make) the draft version: a copy of the newest published one."""
        if not request.user.has_perm("surveys.change_surveyversion"):
            raise PermissionDenied
        draft = services.version_draft(survey_id=survey_id, actor=request.user)
        return redirect("admin:surveys_surveyversion_change", draft.pk)

    def _results_allowed(self, request):
        if not request.user.has_perm("surveys.view_results"):
            raise PermissionDenied

    def results_view(self, request, survey_id: int):
        self._results_allowed(request)
        survey = get_object_or_404(Survey, pk=survey_id)
        version_id = request.GET.get("version", "")
        results = survey_results(survey=survey, version_id=int(version_id) if version_id.isdigit() else None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Results: %(survey)s") % {"survey": survey},
            "opts": self.model._meta,
            "results": results,
            "kinds": QuestionKind,
        }
        return TemplateResponse(request, "admin/surveys/results.html", context)

    def export_view(self, request, survey_id: int):
        self._results_allowed(request)
        survey = get_object_or_404(Survey, pk=survey_id)
        version = get_object_or_404(
            SurveyVersion, survey=survey, pk=request.GET.get("version", "0"), status=VersionStatus.PUBLISHED
        )
        audit_log(
            actor=request.user,
            action="surveys.results.exported",
            obj=survey,
            data={"version": version.number, "format": request.GET.get("format", "csv")},
        )
        name = f"survei-{survey.number}-versi-{version.number}"
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(
                export_xlsx(survey=survey, version=version),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
            return response
        response = StreamingHttpResponse(
            export_csv_stream(survey=survey, version=version), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class QuestionForm(forms.ModelForm):
    options_text = forms.CharField(
        label=_("options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 50}),
        help_text=_("Choice questions: one option a line, as value|Indonesian label|English label."),
    )

    class Meta:
        model = Question
        fields = ("position", "kind", "required", "label_id", "label_en")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["options_text"].initial = "\n".join(
                f"{o['value']}|{o['label_id']}|{o['label_en']}" for o in self.instance.options
            )

    def options(self) -> list[dict]:
        rows = []
        for line in (self.cleaned_data.get("options_text") or "").splitlines():
            if line.strip():
                parts = [p.strip() for p in line.split("|")] + ["", ""]
                rows.append({"value": parts[0], "label_id": parts[1], "label_en": parts[2]})
        return rows


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionForm
    extra = 1
    ordering = ("position",)

    @admin.display(description=_("options"))
    def options_text(self, obj: Question) -> str:
        """Shown instead of the form field when the version is published (read-only)."""
        return "; ".join(f"{o['value']}: {o['label_id']} / {o['label_en']}" for o in obj.options) or "-"

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.is_frozen

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(SurveyVersion)
class SurveyVersionAdmin(admin.ModelAdmin):
    list_display = ("survey", "number", "status", "published_at")
    list_filter = ("status", "survey")
    readonly_fields = ("survey", "number", "status", "published_at", "created_at")
    fields = readonly_fields
    inlines = [QuestionInline]
    actions = ["publish"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """The version's own fields are read-only; the questions are saved in save_formset."""

    def save_formset(self, request, form, formset, change):
        version = form.instance
        formset.save(commit=False)  # writes nothing; lists what changed for the admin's history
        for deleted in formset.deleted_objects:
            try:
                services.question_delete(question_id=deleted.pk, actor=request.user)
            except SurveyError as exc:
                messages.error(request, exc.message)
        for question_form in formset.forms:
            if not question_form.has_changed() or question_form in formset.deleted_forms:
                continue
            data = question_form.cleaned_data
            try:
                services.question_save(
                    version_id=version.pk,
                    question_id=question_form.instance.pk,
                    position=data["position"],
                    kind=data["kind"],
                    label_id=data["label_id"],
                    label_en=data.get("label_en", ""),
                    required=data.get("required", False),
                    options=question_form.options(),
                    actor=request.user,
                )
            except SurveyError as exc:
                messages.error(request, f"{data.get('position')}: {exc.message}")

    @admin.action(description=_("Publish (freeze) the version"), permissions=["change"])
    def publish(self, request, queryset):
        for version in queryset:
            try:
                services.version_publish(version_id=version.pk, actor=request.user)
            except SurveyError as exc:
                self.message_user(request, f"{version}: {exc.message}", messages.WARNING)
            else:
                self.message_user(
                    request, _("%(version)s published.") % {"version": version}, messages.SUCCESS
                )


@admin.register(SurveyAssignment)
class SurveyAssignmentAdmin(ExactSearchMixin, admin.ModelAdmin):
    """Read-only: whose window opens when, and whether they sent it (for helping a participant)."""

    list_display = ("id", "survey", "owner", "province", "opens_on", "deadline", "submitted_at")
    list_filter = ("survey",)
    ordering = ("-id",)
    list_select_related = ("survey", "owner", "province")
    search_fields = ("owner__email",)
    search_help_text = _("Email address (exact).")
    paginator = CappedCountPaginator
    show_full_result_count = False
    readonly_fields = [f.name for f in SurveyAssignment._meta.fields]

    def search_filter(self, term: str) -> Q:
        return Q(owner__email=term.lower())

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
