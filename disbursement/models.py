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
    BatchStatus,
    EntitlementKind,
    EntitlementReason,
    EntitlementStatus,
    MismatchKind,
    MismatchResolution,
    MovementKind,
    PartnerKind,
    PayoutAccountStatus,
    PayoutChannel,
    PayoutStatus,
    ProgrammeAccount,
)
from prakerja.masking import mask_identifier
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
    """One transfer of ``amount`` rupiah out of one account, recorded as its entries: one leg out
    (-amount) and one leg in (+amount), or for a batch credit one leg into each account credited."""

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


def mask_account_number(value: str) -> str:
    """An account or phone number with only its last four digits shown: ``••••••7890``."""
    return mask_identifier(value, keep_start=0, keep_end=4)


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
    accrued_at = models.DateTimeField(
        _("accrued at"),
        null=True,
        blank=True,
        help_text=_("When the amount moved from the incentive budget to the person's payable account."),
    )

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


class PaymentPartner(models.Model):
    """A bank or e-wallet operator that receives payout instructions over the partner protocol."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=PartnerKind.choices)
    channels = models.JSONField(
        _("channels"), default=list, help_text=_('Channel codes it pays into, e.g. ["ovo", "dana"].')
    )
    base_url = models.URLField(_("endpoint base URL"), max_length=300)
    key_id = models.CharField(_("key id"), max_length=100)
    secret_encrypted = models.TextField(_("secret (encrypted)"), editable=False, default="")
    callback_secret_encrypted = models.TextField(
        _("callback secret (encrypted)"),
        editable=False,
        default="",
        help_text=_("The partner signs its callbacks with it."),
    )
    active = models.BooleanField(_("active"), default=True)
    batch_limit = models.PositiveIntegerField(_("payouts per batch"), default=5000)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("payment partner")
        verbose_name_plural = _("payment partners")

    def __str__(self) -> str:
        return self.name

    @property
    def clearing_code(self) -> str:
        from disbursement.enums import PARTNER_CLEARING_PREFIX

        return f"{PARTNER_CLEARING_PREFIX}{self.pk}"


class PayoutAccount(models.Model):
    """The bank account or e-wallet a person's incentives go to. One active (or in review) per person."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="payout_accounts",
    )
    partner = models.ForeignKey(
        PaymentPartner, verbose_name=_("payment partner"), on_delete=models.PROTECT, related_name="accounts"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=PayoutChannel.choices)
    account_number = models.CharField(_("account number"), max_length=40)
    holder_name = models.CharField(_("holder name at the partner"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PayoutAccountStatus.choices, default=PayoutAccountStatus.PENDING
    )
    payable_from = models.DateTimeField(
        _("payouts from"), null=True, blank=True, help_text=_("End of the cooling-off period after a change.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("payout account")
        verbose_name_plural = _("payout accounts")
        default_permissions = ("view",)
        permissions = [
            ("review_payoutaccount", _("Can approve or reject a payout account in review")),
            ("view_full_account_number", _("Can see full payout account numbers")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(status__in=["active", "review"]),
                name="payout_account_one_live_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.account_number)


class PayoutBatch(models.Model):
    """Payouts to one partner, prepared by one officer and approved by others before Celery sends them."""

    partner = models.ForeignKey(
        PaymentPartner, verbose_name=_("payment partner"), on_delete=models.PROTECT, related_name="batches"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.PREPARED
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the hourly job prepared it."),
    )
    prepared_at = models.DateTimeField(_("prepared"), default=timezone.now)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    payout_count = models.PositiveIntegerField(_("payouts"), default=0)
    total_amount = models.BigIntegerField(_("total (Rp)"), default=0)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    settlement_account = models.ForeignKey(
        "disbursement.SettlementAccount",
        verbose_name=_("settlement to platform"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches",
        help_text=_("Empty for a batch of incentives."),
    )

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        permissions = [
            ("prepare_payoutbatch", _("Can prepare a payout batch")),
            ("approve_payoutbatch", _("Can approve a payout batch")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.partner}"


class PayoutBatchApproval(models.Model):
    """One officer's approval of a batch; the preparer can never be one of them."""

    batch = models.ForeignKey(
        PayoutBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="approvals"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("officer"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("batch approval")
        verbose_name_plural = _("batch approvals")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["batch", "officer"], name="payout_batch_approval_once"),
        ]

    def __str__(self) -> str:
        return f"{self.batch} / {self.officer}"


class Payout(models.Model):
    """One transfer instruction to a partner for one entitlement. The partner dedupes on its key.

    Its status changes only through the transition functions in ``disbursement.services.payouts``.
    """

    batch = models.ForeignKey(
        PayoutBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="payouts"
    )
    # A payout pays either one person's entitlement (entitlement, owner, account) or a settlement to a
    # platform (settlement_account; its items point at the payout): payout_pays_person_or_platform.
    entitlement = models.ForeignKey(
        Entitlement,
        verbose_name=_("entitlement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
        db_index=False,  # payout_one_live_per_entitlement / payout_entitlement_idx
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    partner = models.ForeignKey(
        PaymentPartner, verbose_name=_("payment partner"), on_delete=models.PROTECT, related_name="payouts"
    )
    account = models.ForeignKey(
        PayoutAccount,
        verbose_name=_("payout account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    settlement_account = models.ForeignKey(
        "disbursement.SettlementAccount",
        verbose_name=_("settlement to platform"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=PayoutChannel.choices)
    account_number = models.CharField(_("account number"), max_length=40)
    amount = models.BigIntegerField(_("amount (Rp)"))
    status = models.CharField(
        _("status"), max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.QUEUED
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    reference = models.CharField(_("reference"), max_length=100, help_text=_("Our reference at the partner."))
    round = models.PositiveSmallIntegerField(
        _("round"), default=1, help_text=_("Raised when a failed payout is retried (same key).")
    )
    attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    partner_reference = models.CharField(_("partner's id"), max_length=100, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    sending_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        default_permissions = ("view",)
        permissions = [("retry_payout", _("Can retry a failed payout or move it to the next batch"))]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="payout_unique_key"),
            models.UniqueConstraint(fields=["reference"], name="payout_unique_reference"),
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=~models.Q(status="cancelled"),
                name="payout_one_live_per_entitlement",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(
                    entitlement__isnull=False,
                    owner__isnull=False,
                    account__isnull=False,
                    settlement_account__isnull=True,
                )
                | models.Q(
                    entitlement__isnull=True,
                    owner__isnull=True,
                    account__isnull=True,
                    settlement_account__isnull=False,
                ),
                name="payout_pays_person_or_platform",
            ),
        ]
        indexes = [
            models.Index(fields=["entitlement"], name="payout_entitlement_idx"),
            models.Index(fields=["batch", "status"], name="payout_batch_status_idx"),
            models.Index(
                fields=["status", "sending_at"],
                condition=models.Q(status__in=["sending", "accepted"]),
                name="payout_in_flight_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.account_number)


# --- Reconciliation of partner statements (disbursement/gateway/reconciliation.py) -----------------


class PartnerStatement(models.Model):
    """A partner's daily statement (CSV) as an officer uploaded it, and what matching it found."""

    partner = models.ForeignKey(
        PaymentPartner, verbose_name=_("payment partner"), on_delete=models.PROTECT, related_name="statements"
    )
    day = models.DateField(_("day"))
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    matched_count = models.PositiveIntegerField(_("matched"), default=0)
    mismatch_count = models.PositiveIntegerField(_("mismatches"), default=0)

    class Meta:
        verbose_name = _("partner statement")
        verbose_name_plural = _("partner statements")
        default_permissions = ("view",)
        permissions = [
            ("reconcile_partnerstatement", _("Can upload partner statements and resolve mismatches"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "file_sha256"], name="partner_statement_once_per_file"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.day:%Y-%m-%d}"


class StatementMismatch(models.Model):
    """One difference between a statement and the portal; resolved once, by an audited service."""

    statement = models.ForeignKey(
        PartnerStatement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="mismatches"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=MismatchKind.choices)
    reference = models.CharField(_("reference"), max_length=100)
    payout = models.ForeignKey(
        Payout, verbose_name=_("payout"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner_status = models.CharField(_("status at the partner"), max_length=20, blank=True)
    partner_amount = models.BigIntegerField(_("amount at the partner (Rp)"), null=True, blank=True)
    portal_status = models.CharField(_("status here"), max_length=20, blank=True)
    portal_amount = models.BigIntegerField(_("amount here (Rp)"), null=True, blank=True)
    resolution = models.CharField(
        _("resolution"), max_length=20, choices=MismatchResolution.choices, default="", blank=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("statement mismatch")
        verbose_name_plural = _("statement mismatches")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reference}"


# Settlement to the digital platforms (its own module; the classes belong to this app).
from disbursement.models_settlements import SettlementAccount, SettlementItem  # noqa: E402, F401
