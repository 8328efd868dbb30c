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


class EntitlementKind(models.TextChoices):
    """What an entitlement pays for. Higher apps schedule them (surveys: ratings and evaluation surveys)."""

    TRAINING_INCENTIVE = "training_incentive", pgettext_lazy("entitlement kind", "Training incentive")
    SURVEY_INCENTIVE = "survey_incentive", pgettext_lazy("entitlement kind", "Survey incentive")


class EntitlementStatus(models.TextChoices):
    """scheduled -> due -> in_batch -> paid | failed; held and cancelled on the side."""

    SCHEDULED = "scheduled", pgettext_lazy("entitlement status", "Scheduled")
    DUE = "due", pgettext_lazy("entitlement status", "Due")
    HELD = "held", pgettext_lazy("entitlement status", "Held")
    IN_BATCH = "in_batch", pgettext_lazy("entitlement status", "Being paid")
    PAID = "paid", pgettext_lazy("entitlement status", "Paid")
    FAILED = "failed", pgettext_lazy("entitlement status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("entitlement status", "Cancelled")


# Statuses in which the money is still the programme's to hold, move or cancel.
ENTITLEMENT_OPEN = frozenset({EntitlementStatus.SCHEDULED, EntitlementStatus.DUE, EntitlementStatus.HELD})


class EntitlementReason(models.TextChoices):
    """Why an entitlement is where it is, stored as a code and shown in the person's language."""

    NONE = "", ""
    NO_ACCOUNT = "no_account", _("Link a bank account or e-wallet on the Payout account page to receive it.")
    ACCOUNT_REVIEW = "account_review", _("Your payout account is being checked by an officer.")
    COOLING_OFF = (
        "cooling_off",
        _("Your payout account was changed recently; payments resume after the safety waiting period."),
    )
    REVOKED = "revoked", _("Your participation was revoked; payments are on hold.")
    EXCLUDED = "excluded", _("You are now in a group excluded from the programme; payments are on hold.")
    BLACKLISTED = "blacklisted", _("Your registration is blocked; payments are on hold.")
    PARTNER_FAILED = (
        "partner_failed",
        _(
            "The transfer failed at the payment partner. Check that your account is active; we will try again."
        ),
    )
    ACCOUNT_CLOSED = (
        "account_closed",
        _("The destination account is closed or blocked. Link another account on the Payout account page."),
    )
    OFFICER = "officer", _("Held by a programme officer.")
