from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from marketplace import services
from marketplace.admin._common import URL_FIELDS, ServiceSaveMixin, audit_history, run_for_each, with_reason
from marketplace.enums import TrainingStatus
from marketplace.exceptions import MarketplaceError
from marketplace.models import (
    Listing,
    Training,
    TrainingSession,
)
from marketplace.resources import ListingResource, TrainingResource
from marketplace.selectors import affiliated_expression
from prakerja.admin import AuditedDeleteMixin, ConsoleImportExportMixin
from prakerja.money import format_rupiah
from registration.admin_imports import PipelineImportAdminMixin

# --- Trainings ------------------------------------------------------------------


class TrainingSessionInline(admin.TabularInline):
    model = TrainingSession
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or obj.status in (TrainingStatus.DRAFT, TrainingStatus.REJECTED)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class ListingInline(admin.TabularInline):
    model = Listing
    extra = 0
    can_delete = False
    fields = ["platform", "sku", "price_display", "is_available", "url"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("price"))
    def price_display(self, obj):
        return format_rupiah(obj.price)


CONTENT_FIELDS = [
    "provider",
    "title",
    "description",
    "category",
    "level",
    "mode",
    "duration_hours",
    "price",
    "address",
    "district",
    "latitude",
    "longitude",
]


@admin.register(Training)
class TrainingAdmin(
    AuditedDeleteMixin,
    ServiceSaveMixin,
    PipelineImportAdminMixin,
    ConsoleImportExportMixin,
    ExportMixin,
    admin.ModelAdmin,
):
    """Imports run on the ImportJob pipeline (kind ``trainings``); exports stay on import-export."""

    import_kind = "trainings"
    resource_classes = [TrainingResource]
    list_display = [
        "title",
        "provider",
        "category",
        "level",
        "mode",
        "price_display",
        "status",
        "rating_average",
        "rating_count",
        "assessor_institution",
        "decided_at",
    ]
    list_filter = ["status", "category", "level", "mode", "provider__status", "assessment_required"]
    search_fields = ["title", "provider__legal_name", "provider__brand_name", "provider__nib"]
    list_select_related = ["provider", "assessor_institution"]
    autocomplete_fields = ["provider", "district"]
    show_full_result_count = False
    inlines = [TrainingSessionInline, ListingInline]
    actions = ["submit", "approve", "reject", "reopen"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "provider",
                    "title",
                    "description",
                    "category",
                    "level",
                    "mode",
                    "duration_hours",
                    "price",
                ]
            },
        ),
        (_("In-person venue"), {"fields": ["address", "district", "latitude", "longitude"]}),
        (
            _("Review"),
            {
                "fields": [
                    "status",
                    "status_reason",
                    "submitted_at",
                    "decided_at",
                    "decided_by",
                    "rating_average",
                    "rating_count",
                    "assessment_required",
                    "assessor_institution",
                    "history",
                ]
            },
        ),
    ]
    base_readonly = [
        "status",
        "status_reason",
        "submitted_at",
        "decided_at",
        "decided_by",
        "rating_average",
        "rating_count",
        "assessment_required",
        "assessor_institution",
        "history",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status in (TrainingStatus.IN_REVIEW, TrainingStatus.APPROVED):
            # What was reviewed stays as reviewed; "return to draft" to change it.
            return [*CONTENT_FIELDS, *self.base_readonly]
        return self.base_readonly

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, obj):
        return format_rupiah(obj.price)

    @admin.display(description=_("history"))
    def history(self, obj):
        return audit_history(obj)

    def save_model(self, request, obj, form, change):
        # Only drafts and rejected trainings are editable (see get_readonly_fields); the service
        # locks the row, refuses one that went to review meanwhile, validates and audits.
        data = form.cleaned_data
        if change and not set(form.changed_data) & set(CONTENT_FIELDS):
            return  # nothing of the training itself changed (sessions are saved with the inline)
        fields = {}
        for name in CONTENT_FIELDS:
            if name not in data:
                continue
            if name in ("provider", "district"):
                fields[f"{name}_id"] = data[name].pk if data[name] is not None else None
            else:
                fields[name] = data[name]
        try:
            training, _changed = services.training_draft_save(
                training_id=obj.pk if change else None, actor=request.user, **fields
            )
        except MarketplaceError as exc:
            self.refused(request, exc.message)
            return
        obj.pk = training.pk

    def get_actions(self, request):
        """Besides the review moves: one "needs an assessment by <institution>" action per active
        assessor institution, and "no assessment" (marketplace.services.training_assessment_set)."""
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        from marketplace.models import AssessorInstitution

        def make(institution_id):
            def action(modeladmin, request, queryset):
                run_for_each(
                    modeladmin,
                    request,
                    queryset,
                    call=lambda obj: services.training_assessment_set(
                        training_id=obj.pk, institution_id=institution_id, actor=request.user
                    ),
                    done_message=_("%(count)d training(s) changed."),
                )

            return action

        for institution_id, name in AssessorInstitution.objects.filter(active=True).values_list("id", "name"):
            key = f"assessment_by_{institution_id}"
            description = _("Ends with a competency assessment by %(name)s") % {"name": name}
            actions[key] = (make(institution_id), key, description)
        actions["assessment_none"] = (make(None), "assessment_none", _("Needs no competency assessment"))
        return actions

    @admin.action(description=_("Submit the selected drafts for review"), permissions=["change"])
    def submit(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            call=lambda obj: services.training_submit(training_id=obj.pk, actor=request.user),
            done_message=_("%(count)d training(s) submitted for review."),
        )

    @admin.action(description=_("Approve the selected trainings"), permissions=["change"])
    def approve(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            call=lambda obj: services.training_approve(training_id=obj.pk, actor=request.user),
            done_message=_("%(count)d training(s) approved."),
        )

    @admin.action(description=_("Reject the selected trainings (with a reason)"), permissions=["change"])
    def reject(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            title=_("Reject trainings"),
            call=lambda obj, reason: services.training_reject(
                training_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d training(s) rejected."),
        )

    @admin.action(
        description=_("Return the selected trainings to draft (leaves the catalog)"), permissions=["change"]
    )
    def reopen(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            title=_("Return to draft"),
            call=lambda obj, reason: services.training_reopen(
                training_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d training(s) returned to draft."),
            required=False,
        )


# --- Listings -------------------------------------------------------------------


@admin.register(Listing)
class ListingAdmin(
    AuditedDeleteMixin,
    ServiceSaveMixin,
    PipelineImportAdminMixin,
    ConsoleImportExportMixin,
    ExportMixin,
    admin.ModelAdmin,
):
    """Listings are created and changed through the marketplace services; imports on the pipeline."""

    import_kind = "listings"
    formfield_overrides = URL_FIELDS
    resource_classes = [ListingResource]
    list_display = [
        "training",
        "platform",
        "sku",
        "price_display",
        "is_available",
        "affiliated",
        "updated_at",
    ]
    list_filter = ["platform", "is_available", "training__status"]
    search_fields = ["sku", "training__title", "training__provider__legal_name"]
    list_select_related = ["training", "platform"]
    autocomplete_fields = ["training"]
    show_full_result_count = False
    readonly_fields = ["created_at", "updated_at", "history"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(affiliated=affiliated_expression())

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["training", "platform", *self.readonly_fields]
        return self.readonly_fields

    @admin.display(description=_("affiliated"), boolean=True)
    def affiliated(self, obj):
        return obj.affiliated

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, obj):
        return format_rupiah(obj.price)

    @admin.display(description=_("history"))
    def history(self, obj):
        return audit_history(obj)

    def save_model(self, request, obj, form, change):
        # The form checked the values (model rules); the services lock, check again and audit.
        data = form.cleaned_data
        try:
            if change:
                listing = services.listing_update(
                    listing_id=obj.pk,
                    actor=request.user,
                    price=data["price"],
                    is_available=data["is_available"],
                    url=data["url"],
                    sku=data["sku"],
                )
            else:
                listing = services.listing_create(
                    training_id=data["training"].pk,
                    platform_id=data["platform"].pk,
                    sku=data["sku"],
                    url=data["url"],
                    price=data["price"],
                    is_available=data["is_available"],
                    actor=request.user,
                )
        except MarketplaceError as exc:
            self.refused(request, exc.message)
            return
        obj.pk = listing.pk
