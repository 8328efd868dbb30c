from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    """Who an account belongs to: one person, or the programme itself."""

    TRAINING_BALANCE = "training_balance", pgettext_lazy("ledger account kind", "Training balance")
    PROGRAMME = "programme", pgettext_lazy("ledger account kind", "Programme account")
    INCENTIVE_PAYABLE = "incentive_payable", pgettext_lazy("ledger account kind", "Incentive payable")


class ProgrammeAccount(models.TextChoices):
    """The standard programme accounts, by code. Other apps may open more (e.g. one per platform)."""

    TRAINING_BUDGET = "training_budget", _("Training budget (source of training balances)")
    FORFEITED = "forfeited_balances", _("Forfeited training balances")
    PLATFORM_PAYABLE = "platform_payable", _("Purchases payable to digital platforms")
    INCENTIVE_BUDGET = "incentive_budget", _("Incentive budget (source of incentives)")
    INCENTIVES_PAID_OUT = "incentives_paid_out", _("Incentives paid out to participants")
    PLATFORMS_PAID_OUT = "platforms_paid_out", _("Purchases settled to digital platforms")


# Each payment partner has its own clearing account: money sent to it and not yet confirmed paid.
PARTNER_CLEARING_PREFIX = "partner_clearing:"


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
            "The transfer failed at the payment partner. Check that your account is active; a programme officer "
            "will send it again."
        ),
    )
    ACCOUNT_CLOSED = (
        "account_closed",
        _(
            "The destination account is closed or blocked. Link another account on the Payout account page: "
            "the payment then goes to it."
        ),
    )
    OFFICER = "officer", _("Held by a programme officer.")


# Partner failure codes that mean the destination itself is wrong: the person must link another account.
ACCOUNT_FAILURES = frozenset({"account_closed", "account_not_found", "account_blocked", "account_invalid"})


class PartnerKind(models.TextChoices):
    BANK = "bank", pgettext_lazy("payment partner kind", "Bank")
    EWALLET = "ewallet", pgettext_lazy("payment partner kind", "E-wallet")


class PayoutChannel(models.TextChoices):
    """Where a payout lands; the codes are the partner protocol's ``channel``."""

    BNI = "bni", _("BNI bank account")
    BNI_VA = "bni_va", _("BNI virtual account")
    OVO = "ovo", "OVO"
    GOPAY = "gopay", "GoPay"
    LINKAJA = "linkaja", "LinkAja"
    DANA = "dana", "DANA"


EWALLET_CHANNELS = frozenset(
    {PayoutChannel.OVO, PayoutChannel.GOPAY, PayoutChannel.LINKAJA, PayoutChannel.DANA}
)


class PayoutAccountStatus(models.TextChoices):
    """pending (waiting for the SMS code) -> active | review -> active | rejected; replaced by a newer one."""

    PENDING = "pending", pgettext_lazy("payout account status", "Waiting for the SMS code")
    REVIEW = "review", pgettext_lazy("payout account status", "Being checked")
    ACTIVE = "active", pgettext_lazy("payout account status", "Active")
    REJECTED = "rejected", pgettext_lazy("payout account status", "Rejected")
    REPLACED = "replaced", pgettext_lazy("payout account status", "Replaced")


class BatchStatus(models.TextChoices):
    """prepared -> approved (enough approvals) -> sending -> done; cancelled before approval."""

    PREPARED = "prepared", pgettext_lazy("batch status", "Waiting for approval")
    APPROVED = "approved", pgettext_lazy("batch status", "Approved")
    SENDING = "sending", pgettext_lazy("batch status", "Sending")
    DONE = "done", pgettext_lazy("batch status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("batch status", "Cancelled")


class PayoutStatus(models.TextChoices):
    """queued -> sending -> accepted -> paid | failed; a failed one is retried (queued) or cancelled."""

    QUEUED = "queued", pgettext_lazy("payout status", "Queued")
    SENDING = "sending", pgettext_lazy("payout status", "Sending")
    ACCEPTED = "accepted", pgettext_lazy("payout status", "Accepted by the partner")
    PAID = "paid", pgettext_lazy("payout status", "Paid")
    FAILED = "failed", pgettext_lazy("payout status", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("payout status", "Moved or cancelled")


class MismatchKind(models.TextChoices):
    """What reconciling a partner statement against the portal's payouts can find."""

    PAID_THERE_FAILED_HERE = "paid_there_failed_here", _("Paid at the partner, failed here")
    FAILED_THERE_PAID_HERE = "failed_there_paid_here", _("Failed at the partner, paid here")
    STATUS_DIFFERS = "status_differs", _("Final at the partner, still in flight here")
    AMOUNT_DIFFERS = "amount_differs", _("Amount differs")
    UNKNOWN_REFERENCE = "unknown_reference", _("Unknown reference")
    MISSING = "missing", _("Missing from the statement")


class MismatchResolution(models.TextChoices):
    OPEN = "", pgettext_lazy("mismatch resolution", "Open")
    RECHECKED = "rechecked", pgettext_lazy("mismatch resolution", "Checked with the partner")
    MARKED_PAID = "marked_paid", pgettext_lazy("mismatch resolution", "Marked paid")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("mismatch resolution", "Noted, taken up with the partner")


class SettlementState(models.TextChoices):
    """Where a settlement item (one redeemed voucher owed to its platform) stands; derived from its payout."""

    OPEN = "open", pgettext_lazy("settlement state", "Not settled yet")
    WAITING = "waiting", pgettext_lazy("settlement state", "Waiting for approval")
    SENDING = "sending", pgettext_lazy("settlement state", "Being paid")
    PAID = "paid", pgettext_lazy("settlement state", "Paid")
    FAILED = "failed", pgettext_lazy("settlement state", "Failed")
