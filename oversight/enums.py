from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ComplaintCategory(models.TextChoices):
    REGISTRATION = "registration", _("Registration and NIK")
    KYC = "kyc", _("Identity check (selfie and KTP)")
    SELECTION = "selection", _("Wave selection")
    PURCHASE = "purchase", _("Purchase and voucher")
    TRAINING = "training", _("Training quality")
    PAYOUT = "payout", _("Incentive payment")
    NIK_MISUSE = "nik_misuse", _("Someone registered with my NIK")
    OTHER = "other", _("Other")


class ComplaintStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", pgettext_lazy("complaint", "Waiting for the SMS code")
    OPEN = "open", pgettext_lazy("complaint", "New")
    ANSWERED = "answered", pgettext_lazy("complaint", "Being handled")
    WAITING = "waiting", pgettext_lazy("complaint", "Waiting for you")
    RESOLVED = "resolved", pgettext_lazy("complaint", "Resolved")


# Statuses in which the programme owes the person an answer (service levels run).
ACTIVE_STATUSES = (ComplaintStatus.OPEN, ComplaintStatus.ANSWERED)
