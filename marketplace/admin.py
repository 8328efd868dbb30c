"""The officers' console for platforms, providers, trainings and listings.

Status changes, affiliations, credential rotation and listing price changes go
through services (audited); the console never writes a status itself.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin

from marketplace import services
from marketplace.enums import TrainingStatus
from marketplace.exceptions import MarketplaceError
from marketplace.models import (
    Listing,
    Platform,
    PlatformCredential,
    Provider,
    ProviderAffiliation,
    ProviderDocument,
    Training,
    TrainingSession,
)
from marketplace.resources import ListingResource, TrainingResource
from marketplace.selectors import affiliated_expression
from prakerja.audit import audit_entries_for, audit_log
from prakerja.money import format_rupiah


def _history(obj) -> str:
    if obj is None or obj.pk is None:
        return "-"
    entries = audit_entries_for(obj).order_by("-created_at")[:20]
    return (
        format_html_join(
            "",
            "<div>{} · {} · {} {}</div>",
            (
                (
                    f"{entry.created_at:%Y-%m-%d %H:%M}",
                    entry.actor_repr,
                    entry.action,
                    entry.data.get("reason") or "",
                )
                for entry in entries
            ),
        )
        or "-"
    )


URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))


def _run_for_each(modeladmin, request, queryset, *, call, done_message) -> None:
    done, refused = 0, []
    for obj in queryset:
        try:
            call(obj)
        except (MarketplaceError, ValidationError) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc.message)
            refused.append(f"{obj}: {text}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)
    for line in refused[:20]:
        modeladmin.message_user(request, line, messages.WARNING)


def _with_reason(modeladmin, request, queryset, *, title, call, done_message, required=True):
    """An action that asks for a reason on an intermediate page, then calls the service per object."""
    if "apply" in request.POST:
        form = ReasonForm(request.POST)
        form.fields["reason"].required = required
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            _run_for_each(
                modeladmin,
                request,
                queryset,
                call=lambda obj: call(obj, reason),
                done_message=done_message,
            )
            return None
    else:
        form = ReasonForm()
        form.fields["reason"].required = required
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": queryset,
        "form": form,
        "action": request.POST.get("action"),
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/marketplace/reason.html", context)


# --- Platforms ------------------------------------------------------------------


class PlatformCredentialInline(admin.TabularInline):
    model = PlatformCredential
    extra = 0
    can_delete = False
    fields = ["key_id", "secret_hint", "created_at", "created_by", "expires_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["name", "slug", "active", "contact_email", "webhook_url"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "history"]
    inlines = [PlatformCredentialInline]
    actions = ["issue_credentials", "revoke_credentials"]
    show_full_result_count = False

    @admin.display(description=_("history"))
    def history(self, obj):
        return _history(obj)

    def _may_rotate(self, request) -> bool:
        return request.user.has_perm("marketplace.rotate_platform_credentials")

    @admin.action(description=_("Issue new API credentials (the old ones expire after the grace period)"))
    def issue_credentials(self, request, queryset):
        if not self._may_rotate(request):
            raise PermissionDenied
        issued = [
            services.platform_credential_issue(platform_id=platform.pk, actor=request.user)
            for platform in queryset
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("New API credentials"),
            "issued": issued,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/marketplace/credentials_issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke all API credentials now"))
    def revoke_credentials(self, request, queryset):
        if not self._may_rotate(request):
            raise PermissionDenied
        count = sum(
            services.platform_credentials_revoke(platform_id=p.pk, actor=request.user) for p in queryset
        )
        self.message_user(
            request, ngettext("%d credential revoked.", "%d credentials revoked.", count) % count
        )


# --- Providers ------------------------------------------------------------------


class ProviderDocumentInline(admin.TabularInline):
    model = ProviderDocument
    extra = 0
    can_delete = False
    fields = ["kind", "download", "content_type", "size", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        url = reverse("admin:marketplace_providerdocument_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


class ProviderAffiliationInline(admin.TabularInline):
    model = ProviderAffiliation
    extra = 0
    fields = ["platform", "relationship", "recorded_at"]
    readonly_fields = ["recorded_at"]


class AffiliatedFilter(admin.SimpleListFilter):
    title = _("affiliated with a platform")
    parameter_name = "affiliated"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        exists = Exists(ProviderAffiliation.objects.filter(provider=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(exists)
        if self.value() == "no":
            return queryset.filter(~exists)
        return queryset


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["legal_name", "brand_name", "nib", "status", "province", "applied_at", "decided_at"]
    list_filter = ["status", AffiliatedFilter, "affiliations__platform"]
    search_fields = ["legal_name", "brand_name", "nib", "contact_email"]
    list_select_related = ["district__regency__province"]
    date_hierarchy = "applied_at"
    show_full_result_count = False
    readonly_fields = ["status", "status_reason", "applied_at", "decided_at", "decided_by", "history"]
    autocomplete_fields = ["district"]
    inlines = [ProviderDocumentInline, ProviderAffiliationInline]
    actions = ["verify", "reject", "suspend", "reinstate"]
    fieldsets = [
        (None, {"fields": ["legal_name", "brand_name", "nib", "description", "website"]}),
        (_("Address"), {"fields": ["address", "district"]}),
        (_("Contact"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
        (
            _("Decision"),
            {"fields": ["status", "status_reason", "applied_at", "decided_at", "decided_by", "history"]},
        ),
    ]

    def has_add_permission(self, request):
        # Providers apply through the public form (/lembaga/daftar/).
        return False

    def has_delete_permission(self, request, obj=None):
        # Decisions and documents stay on record; suspend instead.
        return False

    @admin.display(description=_("province"), ordering="district__regency__province__name")
    def province(self, obj):
        return obj.district.regency.province.name

    @admin.display(description=_("history"))
    def history(self, obj):
        return _history(obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProviderAffiliation:
            return super().save_formset(request, form, formset, change)
        # Affiliations are recorded through the service, which audits them.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.provider_affiliation_remove(affiliation_id=obj.pk, actor=request.user)
        for obj in instances:
            services.provider_affiliation_record(
                provider_id=form.instance.pk,
                platform_id=obj.platform_id,
                relationship=obj.relationship,
                actor=request.user,
            )

    @admin.action(description=_("Verify the selected providers"))
    def verify(self, request, queryset):
        _run_for_each(
            self,
            request,
            queryset,
            call=lambda obj: services.provider_verify(provider_id=obj.pk, actor=request.user),
            done_message=_("%(count)d provider(s) verified."),
        )

    @admin.action(description=_("Reject the selected applications (with a reason)"))
    def reject(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title=_("Reject applications"),
            call=lambda obj, reason: services.provider_reject(
                provider_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d application(s) rejected."),
        )

    @admin.action(description=_("Suspend the selected providers (with a reason)"))
    def suspend(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title=_("Suspend providers"),
            call=lambda obj, reason: services.provider_suspend(
                provider_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d provider(s) suspended."),
        )

    @admin.action(description=_("Lift the suspension of the selected providers (with a reason)"))
    def reinstate(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title=_("Lift suspensions"),
            call=lambda obj, reason: services.provider_reinstate(
                provider_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d provider(s) reinstated."),
        )

    def get_urls(self):
        return [
            path(
                "dokumen/<int:document_id>/",
                self.admin_site.admin_view(self.document_download),
                name="marketplace_providerdocument_download",
            ),
            *super().get_urls(),
        ]

    def document_download(self, request, document_id: int):
        """Provider documents are private: only officers with the download permission get them."""
        if not request.user.has_perm("marketplace.download_providerdocument"):
            raise PermissionDenied
        document = ProviderDocument.objects.select_related("provider").filter(pk=document_id).first()
        if document is None:
            raise Http404
        audit_log(
            actor=request.user,
            action="marketplace.provider.document_downloaded",
            obj=document.provider,
            data={"document_id": document.pk, "kind": document.kind},
        )
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


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
class TrainingAdmin(ImportExportModelAdmin):
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
        "decided_at",
    ]
    list_filter = ["status", "category", "level", "mode", "provider__status"]
    search_fields = ["title", "provider__legal_name", "provider__brand_name", "provider__nib"]
    list_select_related = ["provider"]
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
        return _history(obj)

    @admin.action(description=_("Submit the selected drafts for review"))
    def submit(self, request, queryset):
        _run_for_each(
            self,
            request,
            queryset,
            call=lambda obj: services.training_submit(training_id=obj.pk, actor=request.user),
            done_message=_("%(count)d training(s) submitted for review."),
        )

    @admin.action(description=_("Approve the selected trainings"))
    def approve(self, request, queryset):
        _run_for_each(
            self,
            request,
            queryset,
            call=lambda obj: services.training_approve(training_id=obj.pk, actor=request.user),
            done_message=_("%(count)d training(s) approved."),
        )

    @admin.action(description=_("Reject the selected trainings (with a reason)"))
    def reject(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title=_("Reject trainings"),
            call=lambda obj, reason: services.training_reject(
                training_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d training(s) rejected."),
        )

    @admin.action(description=_("Return the selected trainings to draft (leaves the catalog)"))
    def reopen(self, request, queryset):
        return _with_reason(
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
class ListingAdmin(ImportExportModelAdmin):
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
        return _history(obj)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            audit_log(
                actor=request.user,
                action="marketplace.listing.created",
                obj=obj,
                data={"price": obj.price, "platform": obj.platform.slug},
            )
            return
        # Price and availability changes are audited by the service; the rest is plain data.
        price, available = obj.price, obj.is_available
        original = Listing.objects.get(pk=obj.pk)
        obj.price, obj.is_available = original.price, original.is_available
        super().save_model(request, obj, form, change)
        services.listing_update(listing_id=obj.pk, actor=request.user, price=price, is_available=available)
