from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from marketplace import services
from marketplace.admin._common import URL_FIELDS, ServiceSaveMixin, audit_history, run_for_each, with_reason
from marketplace.exceptions import MarketplaceError
from marketplace.models import (
    Provider,
    ProviderAffiliation,
    ProviderDocument,
)
from prakerja.audit import audit_log

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
class ProviderAdmin(ServiceSaveMixin, admin.ModelAdmin):
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
        return audit_history(obj)

    def save_model(self, request, obj, form, change):
        # Providers are created by their application (provider_apply); officers correct details here.
        fields = {}
        for name in services.PROVIDER_DETAIL_FIELDS:
            key = name.removesuffix("_id")
            if key in form.cleaned_data:
                value = form.cleaned_data[key]
                fields[name] = value.pk if name.endswith("_id") and value is not None else value
        try:
            services.provider_details_set(provider_id=obj.pk, actor=request.user, **fields)
        except MarketplaceError as exc:
            self.refused(request, exc.message)

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

    @admin.action(description=_("Verify the selected providers"), permissions=["change"])
    def verify(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            call=lambda obj: services.provider_verify(provider_id=obj.pk, actor=request.user),
            done_message=_("%(count)d provider(s) verified."),
        )

    @admin.action(description=_("Reject the selected applications (with a reason)"), permissions=["change"])
    def reject(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            title=_("Reject applications"),
            call=lambda obj, reason: services.provider_reject(
                provider_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d application(s) rejected."),
        )

    @admin.action(description=_("Suspend the selected providers (with a reason)"), permissions=["change"])
    def suspend(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            title=_("Suspend providers"),
            call=lambda obj, reason: services.provider_suspend(
                provider_id=obj.pk, actor=request.user, reason=reason
            ),
            done_message=_("%(count)d provider(s) suspended."),
        )

    @admin.action(
        description=_("Lift the suspension of the selected providers (with a reason)"), permissions=["change"]
    )
    def reinstate(self, request, queryset):
        return with_reason(
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
