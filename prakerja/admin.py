from allauth.account.decorators import reauthentication_required
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from prakerja.audit import audit_log
from prakerja.models import AuditEntry, Notification, User
from prakerja.roles import Role, user_has_role
from prakerja.spreadsheets import spreadsheet_dataset_neutralise


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

    def changeform_view(self, request, object_id=None, *args, **kwargs):
        # Only someone who may change it is asked for the password; anyone else gets the usual
        # read-only page or 403 straight away.
        may_change = self.has_change_permission(request) if object_id else self.has_add_permission(request)
        view = reauthentication_required(super().changeform_view) if may_change else super().changeform_view
        return view(request, object_id, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        view = super().delete_view
        if self.has_delete_permission(request):
            view = reauthentication_required(view)
        return view(request, *args, **kwargs)

    def response_action(self, request, queryset):
        return reauthentication_required(super().response_action)(request, queryset)


class ConsoleImportExportMixin:
    """Every django-import-export admin of the console inherits this, before the library's mixin.

    - Import pages (upload, confirm) need the model's ``add`` *and* ``change`` permission.
    - Export pages need the model's ``view`` permission. A Disnaker officer exports only the
      rows of their own province (``export_province_field`` names the path to it); a model
      without one is not exportable for them at all (403).
    - Every cell of an export is passed through ``prakerja.spreadsheets`` (no formulas).
    - Every import and export writes an audit record: who, which model, how many rows.

    The settings ``IMPORT_EXPORT_IMPORT_PERMISSION_CODE`` / ``..._EXPORT_...`` say the same to
    the library; the checks here are explicit so that an admin overriding
    ``has_import_permission`` cannot open the pages by accident. ``tests/prakerja/
    test_role_matrix.py`` fails for a registered import-export admin without this mixin.
    """

    #: Path from the model to its ``Province`` (e.g. ``"province"``); None: no province.
    export_province_field: str | None = None

    def _has_model_perm(self, request, action: str) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")

    def _export_province_id(self, request) -> int | None:
        """The province a Disnaker officer is bound to; None for everyone else.

        Raises PermissionDenied for a Disnaker officer when the model has no province, or
        when the account lacks its province record.
        """
        user = request.user
        if user.is_superuser or not user_has_role(user, Role.DISNAKER_STAFF):
            return None
        staff = getattr(user, "disnaker", None)
        if staff is None or not self.export_province_field:
            raise PermissionDenied
        return staff.province_id

    def has_import_permission(self, request):
        return (
            self._has_model_perm(request, "add")
            and self._has_model_perm(request, "change")
            and super().has_import_permission(request)
        )

    def has_export_permission(self, request):
        if not (self._has_model_perm(request, "view") and super().has_export_permission(request)):
            return False
        try:
            self._export_province_id(request)
        except PermissionDenied:
            return False
        return True

    def _require_import(self, request) -> None:
        if not (
            self._has_model_perm(request, "add")
            and self._has_model_perm(request, "change")
            and self.has_import_permission(request)
        ):
            raise PermissionDenied

    def _require_export(self, request) -> None:
        if not (self._has_model_perm(request, "view") and self.has_export_permission(request)):
            raise PermissionDenied

    def import_action(self, request, **kwargs):
        self._require_import(request)
        return super().import_action(request, **kwargs)

    def process_import(self, request, **kwargs):
        self._require_import(request)
        return super().process_import(request, **kwargs)

    def process_result(self, result, request):
        totals = {key: int(value) for key, value in result.totals.items()}
        audit_log(
            actor=request.user,
            action="prakerja.console_import",
            data={"model": self.opts.label_lower, "rows": len(result.rows), "totals": totals},
        )
        return super().process_result(result, request)

    def export_action(self, request):
        self._require_export(request)
        return super().export_action(request)

    def get_export_queryset(self, request):
        queryset = super().get_export_queryset(request)
        province_id = self._export_province_id(request)
        if province_id is not None:
            queryset = queryset.filter(**{f"{self.export_province_field}_id": province_id})
        return queryset

    def get_export_data(self, file_format, request, queryset, **kwargs):
        self._require_export(request)
        province_id = self._export_province_id(request)
        if province_id is not None:
            # Also for exports started from elsewhere than the export page (actions).
            queryset = queryset.filter(**{f"{self.export_province_field}_id": province_id})
        return super().get_export_data(file_format, request, queryset, **kwargs)

    def get_data_for_export(self, request, queryset, **kwargs):
        dataset = spreadsheet_dataset_neutralise(super().get_data_for_export(request, queryset, **kwargs))
        audit_log(
            actor=request.user,
            action="prakerja.console_export",
            data={
                "model": self.opts.label_lower,
                "rows": len(dataset),
                "columns": list(dataset.headers or []),
                "province_id": self._export_province_id(request),
            },
        )
        return dataset


class AuditedDeleteMixin:
    """A console delete (the delete page or "delete selected") writes one audit entry per row.

    Django's own admin log is not the audit log: officers read ``prakerja.AuditEntry``. The
    entry and the delete share one transaction. ``tests/prakerja/test_console_exports.py``
    fails for an admin whose rows a role may delete without this mixin.
    """

    def _audit_delete(self, request, obj) -> None:
        audit_log(
            actor=request.user,
            action=f"{self.opts.app_label}.{self.opts.model_name}_deleted",
            obj=obj,
            data={"repr": str(obj)[:200]},
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)


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
