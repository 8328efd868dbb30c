"""The Finance Officer's view of the ledger: balances, movements, entries; corrections by reversal.

Nothing here adds, edits or deletes a ledger row: the only write is the
correction view, which calls ``ledger_reverse`` (audited there).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.formats import number_format as format_number
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from disbursement.forms import MovementReverseForm
from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.selectors import ledger_statement
from disbursement.services import LedgerError, ledger_reverse
from prakerja.admin import CappedCountPaginator, ExactSearchMixin, ReadOnlyAdminMixin
from prakerja.money import format_rupiah, format_rupiah_html


class LedgerAdmin(ExactSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50


def _titled(filter_class, title):
    """A list filter with its own title (two "kind" filters on one page need telling apart)."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


def _legs(movement: LedgerMovement) -> tuple[LedgerEntry | None, LedgerEntry | None]:
    """(the entry money left, the first entry money reached), from prefetched entries (``_LEGS``).

    A batch credit has one leg in per account; only its first is prefetched (``_is_batch``).
    """
    out = into = None
    legs = getattr(movement, "legs", None)
    if legs is None:
        legs = movement.entries.select_related("account__owner").order_by("amount", "id")[:2]
    for entry in legs:
        if entry.amount < 0:
            out = entry
        elif into is None:
            into = entry
    return out, into


def _is_batch(movement: LedgerMovement) -> bool:
    """A batch credit into several accounts: its first leg in does not carry the whole amount."""
    _out, into = _legs(movement)
    return into is not None and into.amount != movement.amount


# The leg out and the first leg in of each movement: a batch credit has tens of thousands of legs.
_LEGS = Prefetch(
    "entries",
    queryset=LedgerEntry.objects.select_related("account__owner").order_by("amount", "id")[:2],
    to_attr="legs",
)


def _entries_link(movement: LedgerMovement, label) -> str:
    url = reverse("admin:disbursement_ledgerentry_changelist") + f"?movement__id__exact={movement.pk}"
    return format_html('<a href="{}">{}</a>', url, label)


def _account_link(account: LedgerAccount) -> str:
    url = reverse("admin:disbursement_ledgeraccount_change", args=[account.pk])
    return format_html('<a href="{}">{}</a>', url, account)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(LedgerAdmin):
    list_display = ["id", "label_display", "balance_display", "kind", "created_at"]
    list_display_links = ["id", "label_display"]
    list_filter = ["kind", "allow_negative"]
    search_fields = ["=owner__email", "=code"]
    search_help_text = _("Exact email address of the owner, or a programme account code.")

    def search_filter(self, term: str) -> Q:
        return Q(owner__email__iexact=term) if "@" in term else Q(code=term)

    list_select_related = ["owner"]
    sortable_by = ["id", "created_at"]
    ordering = ["-id"]
    fields = [
        "kind",
        "owner",
        "code",
        "allow_negative",
        "balance_display",
        "created_at",
        "recent_entries",
    ]
    readonly_fields = fields

    @admin.display(description=_("account"))
    def label_display(self, obj):
        return obj.label if obj.owner_id is None else obj.owner.email

    @admin.display(description=_("balance"), ordering="balance")
    def balance_display(self, obj):
        return format_rupiah_html(obj.balance)

    @admin.display(description=_("latest entries"))
    def recent_entries(self, obj):
        entries = list(ledger_statement(account=obj, limit=20))
        if not entries:
            return _("No entries yet.")
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:disbursement_ledgermovement_change", args=[entry.movement_id]),
                    entry.movement_id,
                    date_format(localtime(entry.movement.created_at), "SHORT_DATETIME_FORMAT"),
                    entry.movement.get_kind_display(),
                    format_rupiah_html(entry.amount),
                    entry.movement.reference,
                )
                for entry in entries
            ),
        )
        all_url = reverse("admin:disbursement_ledgerentry_changelist") + f"?account__id__exact={obj.pk}"
        return format_html(
            '<table><tbody>{}</tbody></table><p><a href="{}">{}</a></p>', rows, all_url, _("All entries")
        )


class LedgerEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LedgerEntry
    fields = ["account", "amount_display"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__owner")

    @admin.display(description=_("amount"))
    def amount_display(self, obj):
        return format_rupiah_html(obj.amount)


@admin.register(LedgerMovement)
class LedgerMovementAdmin(LedgerAdmin):
    list_display = ["id", "kind", "amount_display", "from_account", "to_account", "created_at", "reference"]
    list_filter = ["kind", "created_at"]
    search_fields = ["=reference", "=idempotency_key"]
    search_help_text = _("Exact reference (e.g. cohorts.wave:5) or idempotency key.")

    def search_filter(self, term: str) -> Q:
        return Q(reference=term) | Q(idempotency_key=term)

    sortable_by = ["id", "created_at"]
    ordering = ["-id"]
    fields = [
        "created_at",
        "kind",
        "amount_display",
        "reference",
        "idempotency_key",
        "actor",
        "memo",
        "reverses",
        "reversed_by_link",
    ]
    readonly_fields = fields
    inlines = [LedgerEntryInline]
    change_form_template = "admin/disbursement/ledgermovement/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("actor", "reverses")
            .prefetch_related(_LEGS, "reversals")
        )

    def get_inlines(self, request, obj):
        # A batch credit's legs are listed on the entries page, a page at a time (legs_summary).
        return [] if obj is not None and _is_batch(obj) else self.inlines

    def get_fields(self, request, obj=None):
        return [*self.fields, "legs_summary"] if obj is not None and _is_batch(obj) else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("entries"))
    def legs_summary(self, obj):
        out, into = _legs(obj)
        accounts = LedgerEntry.objects.filter(movement=obj, amount__gt=0).count()
        return format_html(
            "{}<br>{}",
            format_html("{} {}", _("From:"), _account_link(out.account)) if out else "-",
            _entries_link(
                obj,
                _("Into %(count)s accounts (batch credit): see the entries")
                % {"count": format_number(accounts, force_grouping=True)},
            ),
        )

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return format_rupiah_html(obj.amount)

    @admin.display(description=_("from"))
    def from_account(self, obj):
        out, _into = _legs(obj)
        return _account_link(out.account) if out else "-"

    @admin.display(description=_("to"))
    def to_account(self, obj):
        if _is_batch(obj):
            return _entries_link(obj, _("several accounts"))
        _out, into = _legs(obj)
        return _account_link(into.account) if into else "-"

    @admin.display(description=_("reversed by"))
    def reversed_by_link(self, obj):
        reversal = next(iter(obj.reversals.all()), None)
        if reversal is None:
            return "-"
        url = reverse("admin:disbursement_ledgermovement_change", args=[reversal.pk])
        return format_html('<a href="{}">{}</a>', url, reversal)

    def has_reverse_permission(self, request) -> bool:
        return request.user.has_perm("disbursement.reverse_ledgermovement")

    def _can_reverse(self, request, movement: LedgerMovement) -> bool:
        return (
            self.has_reverse_permission(request)
            and movement.reverses_id is None
            and not movement.reversals.all()
            and not _is_batch(movement)
        )

    def get_urls(self):
        return [
            path(
                "<int:movement_id>/reverse/",
                self.admin_site.admin_view(self.reverse_view),
                name="disbursement_ledgermovement_reverse",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        movement = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_reverse": movement is not None and self._can_reverse(request, movement),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def reverse_view(self, request, movement_id: int):
        """Correct a movement: a new movement in the opposite direction, with the officer's reason."""
        if not self.has_reverse_permission(request):
            raise PermissionDenied
        movement = self.get_queryset(request).filter(pk=movement_id).first()
        if movement is None:
            raise Http404
        change_url = reverse("admin:disbursement_ledgermovement_change", args=[movement.pk])
        if not self._can_reverse(request, movement):
            messages.error(
                request,
                _("This movement cannot be reversed: it is a reversal, already reversed, or a batch credit."),
            )
            return redirect(change_url)
        form = MovementReverseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                reversal = ledger_reverse(
                    movement=movement,
                    idempotency_key=f"disbursement.correction:{movement.pk}",
                    reference=f"disbursement.ledgermovement:{movement.pk}",
                    actor=request.user,
                    memo=form.cleaned_data["reason"],
                )
            except LedgerError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Movement #%(id)s was reversed by movement #%(reversal)s.")
                    % {"id": movement.pk, "reversal": reversal.pk},
                )
                return redirect(reverse("admin:disbursement_ledgermovement_change", args=[reversal.pk]))
        out, into = _legs(movement)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Reverse movement #%(id)s") % {"id": movement.pk},
            "movement": movement,
            "amount": format_rupiah(movement.amount),
            "from_account": out.account if out else None,
            "to_account": into.account if into else None,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/disbursement/ledgermovement/reverse.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(LedgerAdmin):
    list_display = ["id", "amount_display", "account_link", "kind", "created", "movement_link", "reference"]
    list_filter = [
        ("movement__kind", _titled(admin.ChoicesFieldListFilter, _("kind of movement"))),
        ("account__kind", _titled(admin.ChoicesFieldListFilter, _("kind of account"))),
        ("movement__created_at", _titled(admin.DateFieldListFilter, _("time"))),
    ]
    search_fields = ["=account__owner__email", "=movement__reference"]
    search_help_text = _("Exact email address of the account owner, or exact reference.")

    def search_filter(self, term: str) -> Q:
        return Q(account__owner__email__iexact=term) if "@" in term else Q(movement__reference=term)

    list_select_related = ["movement", "account__owner"]
    sortable_by = ["id"]
    ordering = ["-id"]
    fields = ["movement_link", "account_link", "amount_display", "kind", "created", "reference"]
    readonly_fields = fields

    @admin.display(description=_("time"))
    def created(self, obj):
        return obj.movement.created_at

    @admin.display(description=_("kind"))
    def kind(self, obj):
        return obj.movement.get_kind_display()

    @admin.display(description=_("reference"))
    def reference(self, obj):
        return obj.movement.reference

    @admin.display(description=_("amount"))
    def amount_display(self, obj):
        return format_rupiah_html(obj.amount)

    @admin.display(description=_("account"))
    def account_link(self, obj):
        return _account_link(obj.account)

    @admin.display(description=_("movement"))
    def movement_link(self, obj):
        url = reverse("admin:disbursement_ledgermovement_change", args=[obj.movement_id])
        return format_html('<a href="{}">{}</a>', url, obj.movement)


# The payouts, settlements and reconciliation consoles register themselves on import.
from disbursement import admin_payouts, admin_settlements  # noqa: E402,F401
from disbursement.gateway import admin as gateway_admin  # noqa: E402,F401
