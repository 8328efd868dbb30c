from allauth.account.decorators import reauthentication_required
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from prakerja.models import AuditEntry, Notification, User


class ReadOnlyAdminMixin:
    """For records nobody edits from the console (audit, ledger, outbox)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecentAuthRequiredMixin:
    """For console screens that set where money or secrets go (payment destinations, platform
    credentials, webhook URLs): the officer confirms the password (or an authenticator code)
    again before opening the form, saving, deleting or running an action.

    Built on allauth's re-authentication: a confirmation is valid for
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds; a form posted later is held while the officer
    confirms, then submitted. Views outside the console use allauth's
    ``allauth.account.decorators.reauthentication_required`` the same way.
    """

    def changeform_view(self, request, *args, **kwargs):
        return reauthentication_required(super().changeform_view)(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return reauthentication_required(super().delete_view)(request, *args, **kwargs)

    def response_action(self, request, queryset):
        return reauthentication_required(super().response_action)(request, queryset)


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` rows (``SELECT COUNT(*) FROM (... LIMIT cap+1)``), never a whole table.

    Lists of applicants, users, ledger rows and the outbox grow to millions of rows; past
    the cap the list pages through the first ``cap`` rows and officers filter or search.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return min(object_list.order_by()[: self.cap + 1].count(), self.cap)
        return min(len(object_list), self.cap)


class ExactSearchMixin:
    """Search by exact values on indexed columns: a LIKE over millions of rows is never run.

    Subclasses say what a search term matches in ``search_filter`` (a Q; ``Q(pk__in=[])``
    for a term that cannot match anything).
    """

    def search_filter(self, term: str) -> Q:
        raise NotImplementedError

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(self.search_filter(term)), False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "language"]
    search_fields = ["email", "first_name", "last_name"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "language")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]


AUDIT_AREAS = ("prakerja", "registration", "kyc", "cohorts", "marketplace", "disbursement", "surveys")


class AuditAreaFilter(admin.SimpleListFilter):
    """Entries by the part of the programme that wrote them (the action's prefix).

    A fixed list: listing the distinct actions would read the whole log on every page view.
    """

    title = _("area")
    parameter_name = "area"

    def lookups(self, request, model_admin):
        from django.apps import apps

        return [(label, apps.get_app_config(label).verbose_name) for label in AUDIT_AREAS] + [
            ("system", _("System jobs"))
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action__startswith=f"{self.value()}.")
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_repr", "action", "target_type", "target_repr"]
    search_fields = ["actor_repr", "action", "target_id"]
    # No date_hierarchy: its date links scan the whole table on every page view.
    list_filter = [AuditAreaFilter, ("created_at", admin.DateFieldListFilter)]
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-id"]  # newest first by the primary key: no sort of the whole log
    fields = ["created_at", "actor_repr", "action", "target_type", "target_id", "target_repr", "data"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "channel", "masked_recipient", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-id"]  # newest first by the primary key: no sort of the whole outbox
    fields = [
        "created_at",
        "channel",
        "masked_recipient",
        "subject",
        "visible_body",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields

    @admin.display(description=_("recipient"))
    def masked_recipient(self, obj):
        value = obj.recipient
        if "@" in value:
            name, _at, domain = value.partition("@")
            return f"{name[:2]}\u2022\u2022\u2022@{domain}"
        return f"{value[:5]}\u2022\u2022\u2022\u2022{value[-3:]}"

    @admin.display(description=_("message"))
    def visible_body(self, obj):
        if obj.sensitive:
            return _("(one-time code or link: not shown)")
        return obj.body
