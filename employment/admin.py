"""Job platforms in the console: settings and API credentials (re-authentication first, as for the
training platforms), and read-only lists of consents, openings and outcomes."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from employment import services
from employment.models import JobOpening, JobOutcome, JobPlatform, JobPlatformCredential, JobSharingConsent
from marketplace.admin._common import URL_FIELDS, audit_history
from prakerja.admin import RecentAuthRequiredMixin


class JobPlatformCredentialInline(admin.TabularInline):
    model = JobPlatformCredential
    extra = 0
    can_delete = False
    fields = ["key_id", "secret_hint", "created_at", "created_by", "expires_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JobPlatform)
class JobPlatformAdmin(RecentAuthRequiredMixin, admin.ModelAdmin):
    """The API credentials decide who reads participants' job profiles: every change asks for the
    officer's password again (RecentAuthRequiredMixin)."""

    formfield_overrides = URL_FIELDS
    list_display = ["name", "slug", "active", "contact_email", "website"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "history"]
    inlines = [JobPlatformCredentialInline]
    actions = ["issue_credentials", "revoke_credentials"]

    @admin.display(description=_("history"))
    def history(self, obj):
        return audit_history(obj)

    def has_delete_permission(self, request, obj=None):
        return False  # consents, openings and outcomes point at it: deactivate instead

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in services.JOB_PLATFORM_FIELDS
            if name in form.cleaned_data
        }
        platform = services.job_platform_save(
            platform_id=obj.pk if change else None, actor=request.user, **fields
        )
        obj.pk = platform.pk

    def has_rotate_permission(self, request) -> bool:
        return request.user.has_perm("employment.rotate_jobplatform_credentials")

    @admin.action(
        description=_("Issue new API credentials (the old ones expire after the grace period)"),
        permissions=["rotate"],
    )
    def issue_credentials(self, request, queryset):
        if not self.has_rotate_permission(request):
            raise PermissionDenied
        issued = [
            services.job_platform_credential_issue(platform_id=platform.pk, actor=request.user)
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

    @admin.action(description=_("Revoke all API credentials now"), permissions=["rotate"])
    def revoke_credentials(self, request, queryset):
        if not self.has_rotate_permission(request):
            raise PermissionDenied
        count = sum(
            services.job_platform_credentials_revoke(platform_id=p.pk, actor=request.user) for p in queryset
        )
        self.message_user(
            request, ngettext("%d credential revoked.", "%d credentials revoked.", count) % count
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by the participant (consents) or the platforms' API (openings, outcomes)."""

    formfield_overrides = URL_FIELDS
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JobSharingConsent)
class JobSharingConsentAdmin(ReadOnlyAdmin):
    list_display = ["profile", "platform", "text_version", "granted_at", "withdrawn_at"]
    list_filter = ["platform", "text_version"]
    list_select_related = ["profile", "platform"]
    search_fields = ["=profile__public_id"]


@admin.register(JobOpening)
class JobOpeningAdmin(ReadOnlyAdmin):
    list_display = ["title", "company", "location", "platform", "closes_on", "received_at"]
    list_filter = ["platform"]
    list_select_related = ["platform"]
    search_fields = ["title", "company", "=external_id"]


@admin.register(JobOutcome)
class JobOutcomeAdmin(ReadOnlyAdmin):
    list_display = ["profile", "kind", "job_reference", "platform", "occurred_on", "reported_at"]
    list_filter = ["kind", "platform"]
    list_select_related = ["profile", "platform"]
    search_fields = ["=job_reference", "=profile__public_id"]
