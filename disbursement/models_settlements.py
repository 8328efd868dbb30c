"""Settlement to the digital platforms: what the programme owes a platform for redeemed vouchers.

A purchase moves its price from the participant's training balance to the platform's payable account
(``platform_payable:<platform id>``, opened by marketplace). When the platform redeems the voucher (the
training started), marketplace records a ``SettlementItem`` for it through
``disbursement.services.settlements``: the amount the platform has earned. A Finance officer prepares a
settlement for one platform (one ``Payout`` in a ``PayoutBatch`` carrying every open item), another
approves it, and the existing payout machinery sends it to the platform's settlement bank account.

Only ``disbursement.services.settlements`` writes these tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disbursement.enums import PayoutChannel


class SettlementAccount(models.Model):
    """A payee that is not a person: one digital platform, its payable ledger account and its bank account.

    The bank account number is stored encrypted (``PAYOUT_CREDENTIAL_KEYS``) and shown masked; a
    payout keeps its own copy, as it does for a participant's account.
    """

    reference = models.CharField(
        _("reference"), max_length=100, unique=True, help_text=_("Who it is, e.g. marketplace.platform:3.")
    )
    name = models.CharField(_("name"), max_length=200)
    payable_code = models.CharField(
        _("payable ledger account"),
        max_length=64,
        unique=True,
        help_text=_("The programme account the platform's purchases are paid into."),
    )
    partner = models.ForeignKey(
        "disbursement.PaymentPartner",
        verbose_name=_("payment partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlement_accounts",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=PayoutChannel.choices, blank=True)
    account_number_encrypted = models.TextField(_("account number (encrypted)"), editable=False, default="")
    account_number_masked = models.CharField(_("account number"), max_length=40, blank=True, editable=False)
    holder_name = models.CharField(_("account holder"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("bank account changed"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("platform settlement account")
        verbose_name_plural = _("platform settlement accounts")
        default_permissions = ("view", "change")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_bank_account(self) -> bool:
        return bool(self.partner_id and self.channel and self.account_number_encrypted)


class SettlementItem(models.Model):
    """One redeemed voucher's price, owed to its platform; settled by at most one live payout.

    ``source_reference`` (``marketplace.voucher:<id>``) is unique, and so is the purchase's ledger
    movement: a voucher is recorded, and therefore paid, once. The item is open while it has no payout
    or its payout was cancelled (withdrawn, moved to the next batch).
    """

    account = models.ForeignKey(
        SettlementAccount,
        verbose_name=_("platform"),
        on_delete=models.PROTECT,
        related_name="items",
        db_index=False,  # settlement_item_account_idx leads with it
    )
    source_reference = models.CharField(_("voucher"), max_length=200, unique=True)
    movement = models.OneToOneField(
        "disbursement.LedgerMovement",
        verbose_name=_("purchase (ledger)"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    code = models.CharField(_("voucher code"), max_length=32, blank=True)
    description = models.CharField(_("training"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("redeemed"))
    payout = models.ForeignKey(
        "disbursement.Payout",
        verbose_name=_("payout"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlement_items",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("settlement item")
        verbose_name_plural = _("settlement items")
        default_permissions = ()
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="settlement_item_amount_positive"),
        ]
        indexes = [models.Index(fields=["account", "occurred_at"], name="settlement_item_account_idx")]

    def __str__(self) -> str:
        return self.code or self.source_reference
