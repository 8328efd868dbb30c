"""The KYC console: the review queue, every case, every submission.

Cases are never edited by hand: a KYC Reviewer decides on the review page
(approve, reject with a reason, or ask for new photos), which calls
``kyc_case_decide`` and is audited. Photos are shown through the permission-
checked ``kyc:photo`` view only.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kyc.enums import CaseStatus, Decision, RejectReason
from kyc.models import DuplicateCandidate, KycCase, KycSubmission, ReviewQueueCase
from kyc.services import REVIEW_PERMISSION, KycError, kyc_case_decide
from prakerja.admin import CappedCountPaginator, ReadOnlyAdminMixin
from prakerja.audit import audit_entries_for


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect)
    reject_reason = forms.ChoiceField(
        label=_("Reason for rejecting (shown to the applicant)"),
        choices=[("", "—")] + RejectReason.choices,
        required=False,
    )
    note = forms.CharField(
        label=_("Note for the file (not shown to the applicant)"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        max_length=2000,
    )


@admin.register(KycCase)
class KycCaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "applicant_label",
        "status",
        "review_reason",
        "attempts",
        "latest_distance",
        "duplicate_distance",
        "status_changed_at",
    ]
    list_filter = ["status", "review_reason"]
    search_fields = ["=applicant__nik", "=applicant__user__email"]
    search_help_text = _("Exact NIK or exact email address.")
    list_select_related = ["applicant", "applicant__user", "latest_submission"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ["-status_changed_at"]
    review_template = "admin/kyc/kyccase/review.html"

    @admin.display(description=_("applicant"), ordering="applicant__full_name")
    def applicant_label(self, case):
        return str(case.applicant)

    @admin.display(description=_("attempts"))
    def attempts(self, case):
        return f"{case.attempts_used}/{case.attempts_allowed}"

    @admin.display(description=_("face distance"))
    def latest_distance(self, case):
        latest = case.latest_submission
        return "—" if latest is None or latest.distance is None else number_format(latest.distance, 3)

    @admin.display(description=_("closest other face"))
    def duplicate_distance(self, case):
        latest = case.latest_submission
        return (
            "—"
            if latest is None or latest.duplicate_distance is None
            else number_format(latest.duplicate_distance, 3)
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        if case is None:
            raise Http404
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        can_review = request.user.has_perm(REVIEW_PERMISSION)
        form = DecisionForm(request.POST or None)
        if request.method == "POST":
            if not can_review:
                raise PermissionDenied
            if form.is_valid():
                try:
                    kyc_case_decide(
                        case_id=case.id,
                        reviewer=request.user,
                        decision=form.cleaned_data["decision"],
                        reject_reason=form.cleaned_data["reject_reason"],
                        note=form.cleaned_data["note"],
                    )
                except KycError as exc:
                    form.add_error(None, str(exc))
                else:
                    self.message_user(
                        request, _("Decision saved: %(case)s.") % {"case": case}, messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:kyc_reviewqueuecase_changelist"))
        return TemplateResponse(
            request, self.review_template, self._review_context(request, case, form, can_review)
        )

    def _review_context(self, request, case, form, can_review):
        submissions = list(case.submissions.select_related("decided_by").order_by("-number"))
        latest = case.latest_submission
        duplicates = []
        if latest is not None:
            duplicates = list(
                DuplicateCandidate.objects.filter(submission=latest).select_related(
                    "other_applicant", "other_face__submission"
                )
            )
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": case,
            "case": case,
            "applicant": case.applicant,
            "latest": latest,
            "submissions": submissions,
            "duplicates": duplicates,
            "audit_entries": list(audit_entries_for(case)[:50]),
            "can_review": can_review,
            "can_decide": can_review and case.status == CaseStatus.REVIEW,
            "form": form,
            "title": _("KYC case: %(applicant)s") % {"applicant": case.applicant},
            "thresholds": {
                "match": settings.KYC_MATCH_THRESHOLD,
                "review": settings.KYC_REVIEW_THRESHOLD,
                "duplicate": settings.KYC_DUPLICATE_THRESHOLD,
            },
            "has_view_permission": True,
        }

    def get_object(self, request, object_id, from_field=None):
        queryset = KycCase.objects.select_related(
            "applicant", "applicant__user", "applicant__province", "latest_submission", "decided_by"
        )
        try:
            return queryset.get(pk=int(object_id))
        except (ValueError, KycCase.DoesNotExist):
            return None


@admin.register(ReviewQueueCase)
class ReviewQueueAdmin(KycCaseAdmin):
    list_display = [
        "applicant_label",
        "review_reason",
        "attempts",
        "latest_distance",
        "duplicate_distance",
        "waiting_since",
    ]
    list_filter = ["review_reason"]
    ordering = ["status_changed_at"]

    @admin.display(description=_("waiting since"), ordering="status_changed_at")
    def waiting_since(self, case):
        return case.status_changed_at

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=CaseStatus.REVIEW)


@admin.register(KycSubmission)
class KycSubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "applicant_label",
        "number",
        "created_at",
        "status",
        "system_verdict",
        "verdict",
        "reason",
        "distance_label",
        "decided_by_display",
        "total_ms",
    ]
    list_filter = ["status", "verdict", "system_verdict", "reason", "failed_image"]
    search_fields = ["=case__applicant__nik", "=id"]
    list_select_related = ["case__applicant", "decided_by"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    ordering = ["-id"]
    exclude = ["selfie", "ktp", "selfie_encoding"]
    readonly_fields = [
        "case_link",
        "number",
        "created_at",
        "status",
        "started_at",
        "processing_attempts",
        "photos_deleted_at",
        "system_verdict",
        "verdict",
        "reason",
        "failed_image",
        "distance",
        "faces_selfie",
        "faces_ktp",
        "duplicate_distance",
        "selfie_quality",
        "ktp_quality",
        "timings",
        "model_name",
        "model_version",
        "decided_at",
        "decided_by_display",
    ]

    @admin.display(description=_("applicant"))
    def applicant_label(self, submission):
        return str(submission.case.applicant)

    @admin.display(description=_("face distance"), ordering="distance")
    def distance_label(self, submission):
        return "—" if submission.distance is None else number_format(submission.distance, 3)

    @admin.display(description=_("decided by"))
    def decided_by_display(self, submission):
        return submission.decided_by_label

    @admin.display(description=_("time (ms)"))
    def total_ms(self, submission):
        return submission.timings.get("total_ms", "—")

    @admin.display(description=_("case"))
    def case_link(self, submission):
        url = reverse("admin:kyc_kyccase_change", args=[submission.case_id])
        return format_html('<a href="{}">{}</a>', url, submission.case.applicant)
