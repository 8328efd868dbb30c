"""The money ledger: accounts, movements and their entries.

Every rupiah that moves is a *movement* (a transfer of a positive amount from
one account to another) recorded as a pair of *entries* that sum to zero: minus
the amount on the account it leaves, plus the amount on the account it reaches.
Movements and entries are append-only; a correction is a new movement that
reverses an earlier one. Each account keeps a cached ``balance`` that the
services update in the same transaction, under a row lock; ``ledger_check``
proves it equals the sum of the account's entries.

Only ``disbursement.services`` writes these tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disbursement.enums import (
    AccountKind,
    EntitlementKind,
    EntitlementReason,
    EntitlementStatus,
    MovementKind,
    ProgrammeAccount,
)
from prakerja.models import AppendOnlyError


class LedgerAccount(models.Model):
    """A balance: one person's training balance, or a programme account (budget, forfeits, payables)."""

    kind = models.CharField(_("kind"), max_length=20, choices=AccountKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
        db_index=False,  # ledger_account_one_per_owner_kind leads with owner
    )
    code = models.CharField(
        _("code"),
        max_length=64,
        null=True,
        blank=True,
        help_text=_("Programme accounts only, e.g. training_budget."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    allow_negative = models.BooleanField(
        _("may go negative"),
        default=False,
        help_text=_("Only source accounts (budgets): their balance is minus what they have paid out."),
    )
    balance = models.BigIntegerField(_("balance (Rp)"), default=0)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        default_permissions = ("view",)
        # Few indexes, and none on balance: a bulk credit rewrites 800,000 balances (see also the
        # fillfactor in migration 0002, which lets PostgreSQL update them in place).
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(code__isnull=False), name="ledger_account_unique_code"
            ),
            models.UniqueConstraint(
                fields=["owner", "kind"],
                condition=models.Q(owner__isnull=False),
                name="ledger_account_one_per_owner_kind",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind=AccountKind.PROGRAMME, code__isnull=False, owner__isnull=True)
                    | (
                        ~models.Q(kind=AccountKind.PROGRAMME)
                        & models.Q(code__isnull=True, owner__isnull=False)
                    )
                ),
                name="ledger_account_owner_or_code",
            ),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) | models.Q(allow_negative=True),
                name="ledger_account_not_overdrawn",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.PROGRAMME:
            return str(self.label)
        return f"{self.get_kind_display()}: {self.owner}"

    @property
    def label(self) -> str:
        if self.code in ProgrammeAccount.values:
            return ProgrammeAccount(self.code).label
        return self.name or self.code or self.get_kind_display()


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk edits and deletes: ledger rows are written once and kept."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only")

    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.label} rows are append-only; reverse them instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.label} rows are append-only; reverse them instead")


class LedgerMovement(AppendOnlyModel):
    """One transfer of ``amount`` rupiah between two accounts, recorded as two entries."""

    created_at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    amount = models.BigIntegerField(_("amount (Rp)"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    reference = models.CharField(
        _("reference"),
        max_length=200,
        blank=True,
        help_text=_("What caused it, as app.model:id, e.g. cohorts.wave:5 or marketplace.purchase:81."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for the system."),
        db_index=False,  # ledger_movement_actor_idx
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        db_index=False,  # ledger_movement_reversed_once
    )
    memo = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("ledger movement")
        verbose_name_plural = _("ledger movements")
        default_permissions = ("view",)
        permissions = [("reverse_ledgermovement", _("Can correct a movement by reversing it"))]
        # Every index costs time in a bulk credit of 800,000 movements: no pattern (_like) indexes,
        # and partial indexes for the columns that are almost always empty.
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="ledger_movement_unique_key"),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=models.Q(reverses__isnull=False),
                name="ledger_movement_reversed_once",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_movement_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["reference"], name="ledger_movement_reference_idx"),
            models.Index(
                fields=["actor"], condition=models.Q(actor__isnull=False), name="ledger_movement_actor_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"


class LedgerEntry(AppendOnlyModel):
    """One side of a movement: ``amount`` (signed) on one account."""

    movement = models.ForeignKey(
        LedgerMovement, verbose_name=_("movement"), on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        LedgerAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,  # covered by ledger_entry_account_idx
    )
    amount = models.BigIntegerField(_("amount (Rp)"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        default_permissions = ("view",)
        indexes = [models.Index(fields=["account", "id"], name="ledger_entry_account_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Entitlement(models.Model):
    """Money the programme owes one person: one payment of ``amount`` rupiah, due on ``due_on``.

    Scheduled by a higher app through ``entitlements_schedule``; when it falls due the amount moves from
    the incentive budget to the person's incentive payable account, and a batch pays it out from there.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="entitlements",
        db_index=False,  # entitlement_owner_idx
    )
    kind = models.CharField(_("kind"), max_length=30, choices=EntitlementKind.choices)
    number = models.PositiveSmallIntegerField(_("number"), help_text=_("1..4 for the training incentive."))
    amount = models.BigIntegerField(_("amount (Rp)"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=20, choices=EntitlementStatus.choices, default=EntitlementStatus.SCHEDULED
    )
    status_reason = models.CharField(
        _("reason"), max_length=30, choices=EntitlementReason.choices, blank=True, default=""
    )
    reference = models.CharField(
        _("reference"), max_length=200, help_text=_("What caused it, e.g. rating:12 or survey-response:7.")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        default_permissions = ("view",)
        permissions = [("hold_entitlement", _("Can hold or release an entitlement"))]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="entitlement_unique_key"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="entitlement_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["owner", "due_on", "number"], name="entitlement_owner_idx"),
            models.Index(fields=["status", "due_on"], name="entitlement_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def reason_text(self) -> str:
        """The reason in the active language (empty when there is none)."""
        if not self.status_reason:
            return ""
        return str(EntitlementReason(self.status_reason).label)
