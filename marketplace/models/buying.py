"""The buying half: purchases with the training balance, vouchers, completions.

    Participant ──< Purchase >── Listing            price copied, paid from the balance (ledger)
    Purchase ──1 Voucher                            unguessable code for the listing's platform
    Voucher ──1 Completion                          certificate number and score

A purchase is the money: ``awaiting_code -> paid -> refunded`` or
``awaiting_code -> failed``. A voucher is the training: ``issued -> redeemed ->
completed`` or ``issued -> cancelled``. Only ``marketplace.services`` changes
their status (compare-and-swap or row locks); see ``services/purchases.py`` and
``services/vouchers.py``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorts.models import Participant
from disbursement.models import LedgerMovement
from marketplace.codes import certificate_code_new, code_display
from marketplace.enums import CancelledBy, PurchaseChannel, PurchaseStatus, VoucherStatus
from marketplace.models.catalog import Listing, Platform, Training, TrainingSession


class Purchase(models.Model):
    """A participant buying one listing with the training balance, confirmed by an SMS code."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="purchases",
        verbose_name=_("participant"),
        db_index=False,  # purchase_participant_idx leads with it
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("listing")
    )
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("platform")
    )
    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchases",
        verbose_name=_("webinar session"),
    )
    price = models.BigIntegerField(
        _("price (Rp)"), help_text=_("The listing's price when the purchase started.")
    )
    channel = models.CharField(_("bought through"), max_length=10, choices=PurchaseChannel.choices)
    status = models.CharField(
        _("status"), max_length=14, choices=PurchaseStatus.choices, default=PurchaseStatus.AWAITING_CODE
    )
    failure_code = models.CharField(_("why it was not completed"), max_length=40, blank=True)
    # The SMS code sent for this purchase (prakerja.OneTimeCode id): a code sent for another purchase
    # does not confirm this one. Not a foreign key: old code rows are purged.
    otp_code_id = models.BigIntegerField(null=True, blank=True, editable=False)
    code_sent_at = models.DateTimeField(_("last code sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    failed_at = models.DateTimeField(_("not completed at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)
    movement = models.OneToOneField(
        LedgerMovement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment (ledger)"),
    )
    refund_movement = models.OneToOneField(
        LedgerMovement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund (ledger)"),
    )

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="purchase_price_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="paid") | models.Q(movement__isnull=False),
                name="purchase_paid_has_movement",
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "-created_at"], name="purchase_participant_idx"),
            models.Index(
                fields=["code_sent_at"],
                name="purchase_awaiting_idx",
                condition=models.Q(status="awaiting_code"),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Purchase #%(id)s") % {"id": self.pk})

    @property
    def reference(self) -> str:
        """How the ledger names this purchase."""
        return f"marketplace.purchase:{self.pk}"


class Voucher(models.Model):
    """What a paid purchase gives: a code the participant (or platform) exchanges for the training."""

    purchase = models.OneToOneField(
        Purchase, on_delete=models.PROTECT, related_name="voucher", verbose_name=_("purchase")
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="vouchers",
        verbose_name=_("participant"),
        db_index=False,  # voucher_participant_idx leads with it
    )
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("platform")
    )
    training = models.ForeignKey(
        Training, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("training")
    )
    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouchers",
        verbose_name=_("webinar session"),
    )
    code = models.CharField(_("voucher code"), max_length=16, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.ISSUED
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    redeem_code = models.CharField(_("redeem code"), max_length=16, blank=True)
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.CharField(_("cancelled by"), max_length=12, choices=CancelledBy.choices, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-issued_at", "-id"]
        permissions = [("cancel_voucher", _("Can cancel a voucher and refund the balance"))]
        indexes = [models.Index(fields=["participant", "-issued_at"], name="voucher_participant_idx")]

    def __str__(self) -> str:
        return self.display_code

    @property
    def display_code(self) -> str:
        return code_display(self.code)

    @property
    def display_redeem_code(self) -> str:
        return code_display(self.redeem_code) if self.redeem_code else ""


class Completion(models.Model):
    """A finished training, reported by the platform with the certificate."""

    voucher = models.OneToOneField(
        Voucher, on_delete=models.PROTECT, related_name="completion", verbose_name=_("voucher")
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="completions",
        verbose_name=_("participant"),
        db_index=False,  # completion_participant_idx leads with it
    )
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="completions", verbose_name=_("platform")
    )
    certificate_number = models.CharField(_("certificate number"), max_length=64)
    score = models.PositiveSmallIntegerField(_("score (0-100)"))
    verification_code = models.CharField(
        _("verification code"),
        max_length=16,
        unique=True,
        default=certificate_code_new,
        editable=False,
        help_text=_("Printed on the certificate; anyone can check it at /sertifikat/<code>/."),
    )
    completed_at = models.DateTimeField(_("completed"))
    recorded_at = models.DateTimeField(_("reported"), default=timezone.now)
    counts_for_incentive = models.BooleanField(
        _("counts for the incentive"),
        default=False,
        help_text=_("The participant's first completed training; the incentive payments build on it."),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
        help_text=_("Empty when the platform reported it through the API."),
    )

    class Meta:
        verbose_name = _("completion")
        verbose_name_plural = _("completions")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(counts_for_incentive=True),
                name="completion_one_incentive_per_participant",
            ),
            models.UniqueConstraint(
                fields=["platform", "certificate_number"], name="completion_unique_certificate"
            ),
            models.CheckConstraint(condition=models.Q(score__lte=100), name="completion_score_range"),
        ]
        indexes = [models.Index(fields=["participant", "recorded_at"], name="completion_participant_idx")]

    def __str__(self) -> str:
        return self.certificate_number

    @property
    def display_verification_code(self) -> str:
        return code_display(self.verification_code)
