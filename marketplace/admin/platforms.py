from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace import services
from marketplace.admin._common import URL_FIELDS, ServiceSaveMixin, audit_history
from marketplace.models import (
    Platform,
    PlatformCredential,
)
from prakerja.admin import AuditedDeleteMixin, RecentAuthRequiredMixin

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
class PlatformAdmin(RecentAuthRequiredMixin, AuditedDeleteMixin, ServiceSaveMixin, admin.ModelAdmin):
    """The webhook URL and the API credentials decide where platform traffic and secrets go:
    every change asks for the officer's password again (RecentAuthRequiredMixin)."""

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
        return audit_history(obj)

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in services.PLATFORM_FIELDS if name in form.cleaned_data
        }
        platform = services.platform_save(
            platform_id=obj.pk if change else None, actor=request.user, **fields
        )
        obj.pk = platform.pk

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
