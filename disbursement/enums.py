from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    """Who an account belongs to: one person, or the programme itself."""

    TRAINING_BALANCE = "training_balance", pgettext_lazy("ledger account kind", "Training balance")
    PROGRAMME = "programme", pgettext_lazy("ledger account kind", "Programme account")


class ProgrammeAccount(models.TextChoices):
    """The standard programme accounts, by code. Other apps may open more (e.g. one per platform)."""

    TRAINING_BUDGET = "training_budget", _("Training budget (source of training balances)")
    FORFEITED = "forfeited_balances", _("Forfeited training balances")
    PLATFORM_PAYABLE = "platform_payable", _("Purchases payable to digital platforms")
    INCENTIVE_BUDGET = "incentive_budget", _("Incentive budget (source of incentives)")


# Source accounts are allowed to run negative: their balance is minus what they paid out.
SOURCE_ACCOUNTS = frozenset({ProgrammeAccount.TRAINING_BUDGET, ProgrammeAccount.INCENTIVE_BUDGET})


class MovementKind(models.TextChoices):
    CREDIT = "credit", pgettext_lazy("ledger movement", "Balance credit")
    PURCHASE = "purchase", pgettext_lazy("ledger movement", "Training purchase")
    REFUND = "refund", pgettext_lazy("ledger movement", "Refund")
    FORFEIT = "forfeit", pgettext_lazy("ledger movement", "Balance forfeited")
    INCENTIVE = "incentive", pgettext_lazy("ledger movement", "Incentive")
    PAYOUT = "payout", pgettext_lazy("ledger movement", "Payout")
    SETTLEMENT = "settlement", pgettext_lazy("ledger movement", "Settlement to platform")
    REVERSAL = "reversal", pgettext_lazy("ledger movement", "Correction (reversal)")
