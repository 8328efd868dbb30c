"""The officers' complaint queue: read-only records, every action through oversight.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oversight import monitoring, services
from oversight.enums import ACTIVE_STATUSES
from oversight.forms import OfficerActionForm
from oversight.models import Complaint, ComplaintMessage, MonitorAccess
from oversight.selectors import complaints_visible_to
from prakerja.roles import Role


class OverdueFilter(admin.SimpleListFilter):
    title = _("service level")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("escalated", _("Escalated"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(status__in=ACTIVE_STATUSES).filter(
                Q(first_answer_at__isnull=True, first_answer_due__lt=now) | Q(resolution_due__lt=now)
            )
        if self.value() == "escalated":
            return queryset.filter(status__in=ACTIVE_STATUSES, escalated_at__isnull=False)
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = _("assigned")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("To me")), ("nobody", _("To nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class MessageInline(admin.TabularInline):
    model = ComplaintMessage
    fields = ["created_at", "from_staff", "author", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    change_form_template = "admin/oversight/complaint/change_form.html"
    list_display = [
        "ticket",
        "priority",
        "category",
        "status",
        "province",
        "created_at",
        "first_answer_due",
        "resolution_due",
        "overdue",
        "assigned_to",
    ]
    list_filter = [OverdueFilter, MineFilter, "status", "category", "priority"]
    list_select_related = ["province", "assigned_to"]
    search_fields = ["=ticket"]
    ordering = ["-priority", "first_answer_due", "-id"]
    inlines = [MessageInline]
    fields = [
        "ticket",
        "category",
        "status",
        "priority",
        "title",
        "description",
        "subject_label",
        "applicant",
        "province",
        "contact_phone_masked",
        "reported_nik_masked",
        "filed_by",
        "assigned_to",
        "created_at",
        "first_answer_due",
        "first_answer_at",
        "resolution_due",
        "resolved_at",
        "escalated_at",
        "reopen_count",
        "attachment_link",
    ]
    readonly_fields = fields

    @admin.display(boolean=True, description=_("overdue"))
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description=_("contact number"))
    def contact_phone_masked(self, obj):
        from registration.phones import phone_masked

        return phone_masked(obj.contact_phone) if obj.contact_phone else "-"

    @admin.display(description=_("NIK reported"))
    def reported_nik_masked(self, obj):
        return obj.masked_nik or "-"

    @admin.display(description=_("attachment"))
    def attachment_link(self, obj):
        from django.utils.html import format_html

        if not obj.attachment:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("oversight:complaint_attachment", args=[obj.ticket]), _("Download")
        )

    def get_queryset(self, request):
        return complaints_visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "<int:complaint_id>/handle/",
                self.admin_site.admin_view(self.handle_view),
                name="oversight_complaint_handle",
            )
        ]
        return custom + urls

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "action_form": OfficerActionForm(),
            "can_handle": request.user.has_perm("oversight.handle_complaint"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def handle_view(self, request, complaint_id: int):
        """Reply, wait for the person, resolve or take the complaint: each through its service, audited there."""
        if request.method != "POST" or not request.user.has_perm("oversight.handle_complaint"):
            raise PermissionDenied
        if not complaints_visible_to(request.user).filter(pk=complaint_id).exists():
            raise PermissionDenied
        form = OfficerActionForm(request.POST)
        back = reverse("admin:oversight_complaint_change", args=[complaint_id])
        if not form.is_valid():
            messages.error(request, _("Choose an action."))
            return redirect(back)
        action, body = form.cleaned_data["action"], form.cleaned_data["body"]
        try:
            if action == "assign_me":
                services.complaint_assign(
                    complaint_id=complaint_id, officer=request.user, assignee=request.user
                )
            elif action == "resolve":
                services.complaint_resolve(
                    complaint_id=complaint_id,
                    officer=request.user,
                    body=body,
                    lift_hold=form.cleaned_data["lift_hold"],
                )
            else:
                services.complaint_reply(
                    complaint_id=complaint_id,
                    officer=request.user,
                    body=body,
                    waiting_for_person=action == "wait",
                )
        except services.ComplaintError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Done. The person is told by email and SMS where they have them."))
        return redirect(back)


class MonitorAccessForm(forms.ModelForm):
    class Meta:
        model = MonitorAccess
        fields = ["user", "institution", "expires_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = (
                get_user_model().objects.filter(groups__name=Role.MONITOR.value).order_by("email")
            )


@admin.register(MonitorAccess)
class MonitorAccessAdmin(admin.ModelAdmin):
    """Officers grant monitors access and set its end date; written (locked, audited) by the service."""

    form = MonitorAccessForm
    list_display = ["institution", "user", "expires_on", "in_force", "granted_by", "updated_at"]
    list_select_related = ["user", "granted_by"]
    search_fields = ["institution", "user__email"]

    @admin.display(description=_("in force"), boolean=True)
    def in_force(self, obj):
        return obj.is_active(timezone.localdate())

    def get_readonly_fields(self, request, obj=None):
        return ["user", "granted_by", "granted_at"] if obj else ["granted_by", "granted_at"]

    def has_delete_permission(self, request, obj=None):
        # Ending access is setting its end date: the record and its audit trail stay.
        return False

    def save_model(self, request, obj, form, change):
        try:
            access = monitoring.monitor_access_set(
                access_id=obj.pk if change else None,
                user=obj.user,
                institution=form.cleaned_data["institution"],
                expires_on=form.cleaned_data["expires_on"],
                actor=request.user,
            )
        except monitoring.MonitorError as exc:
            request._console_refused = True
            self.message_user(request, str(exc.message), messages.ERROR)
            return
        obj.pk = access.pk

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_console_refused", False):
            return redirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_console_refused", False):
            return redirect(request.path)
        return super().response_change(request, obj)
