from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProviderStatus(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("provider status", "Applied")
    VERIFIED = "verified", pgettext_lazy("provider status", "Verified")
    REJECTED = "rejected", pgettext_lazy("provider status", "Rejected")
    SUSPENDED = "suspended", pgettext_lazy("provider status", "Suspended")


class DocumentKind(models.TextChoices):
    CURRICULUM = "curriculum", _("Curriculum")
    SYLLABUS = "syllabus", _("Syllabus")
    TRAINER_QUALIFICATIONS = "trainers", _("Trainer qualifications")
    EVALUATION_METHOD = "evaluation", _("Evaluation method")
    BUSINESS_LICENCE = "licence", _("Business licence (NIB from OSS)")


# The four documents every application must carry.
REQUIRED_DOCUMENTS = (
    DocumentKind.CURRICULUM,
    DocumentKind.SYLLABUS,
    DocumentKind.TRAINER_QUALIFICATIONS,
    DocumentKind.EVALUATION_METHOD,
)


class TrainingStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("training status", "Draft")
    IN_REVIEW = "in_review", pgettext_lazy("training status", "In review")
    APPROVED = "approved", pgettext_lazy("training status", "Approved")
    REJECTED = "rejected", pgettext_lazy("training status", "Rejected")


class TrainingLevel(models.TextChoices):
    BASIC = "basic", pgettext_lazy("training level", "Basic")
    INTERMEDIATE = "intermediate", pgettext_lazy("training level", "Intermediate")
    ADVANCED = "advanced", pgettext_lazy("training level", "Advanced")


class TrainingMode(models.TextChoices):
    SELF_PACED = "self_paced", pgettext_lazy("training mode", "Self-paced online (LMS)")
    WEBINAR = "webinar", pgettext_lazy("training mode", "Live webinar")
    OFFLINE = "offline", pgettext_lazy("training mode", "In person (offline)")


class TrainingCategory(models.TextChoices):
    SALES_MARKETING = "sales_marketing", _("Sales and marketing")
    DIGITAL_MARKETING = "digital_marketing", _("Digital marketing")
    IT = "it", _("Information technology")
    DESIGN = "design", _("Design and creative media")
    LANGUAGE = "language", _("Foreign languages")
    FINANCE = "finance", _("Finance and accounting")
    MANAGEMENT = "management", _("Management and office work")
    ENTREPRENEURSHIP = "entrepreneurship", _("Entrepreneurship")
    FOOD = "food", _("Food and beverages")
    BEAUTY = "beauty", _("Beauty and fashion")
    HOSPITALITY = "hospitality", _("Tourism and hospitality")
    AGRICULTURE = "agriculture", _("Agriculture and fisheries")
    TECHNICAL = "technical", _("Technical trades")
    TRANSPORT = "transport", _("Transport and logistics")


class PurchaseChannel(models.TextChoices):
    PORTAL = "portal", pgettext_lazy("purchase channel", "Prakerja portal")
    API = "api", pgettext_lazy("purchase channel", "Platform API")


class PurchaseStatus(models.TextChoices):
    """The money side: awaiting_code -> paid -> refunded, or awaiting_code -> failed."""

    AWAITING_CODE = "awaiting_code", pgettext_lazy("purchase status", "Waiting for the SMS code")
    PAID = "paid", pgettext_lazy("purchase status", "Paid")
    FAILED = "failed", pgettext_lazy("purchase status", "Not completed")
    REFUNDED = "refunded", pgettext_lazy("purchase status", "Refunded")


class VoucherStatus(models.TextChoices):
    """The training side: issued -> redeemed -> completed, or issued -> cancelled (refunded)."""

    ISSUED = "issued", pgettext_lazy("voucher status", "Not redeemed yet")
    REDEEMED = "redeemed", pgettext_lazy("voucher status", "Redeemed: training in progress")
    COMPLETED = "completed", pgettext_lazy("voucher status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("voucher status", "Cancelled, balance refunded")


class CancelledBy(models.TextChoices):
    PARTICIPANT = "participant", pgettext_lazy("cancelled by", "Participant")
    PLATFORM = "platform", pgettext_lazy("cancelled by", "Platform")
    OFFICER = "officer", pgettext_lazy("cancelled by", "Programme officer")


class WebhookEvent(models.TextChoices):
    """What a webhook to a platform tells it (``X-Prakerja-Event``)."""

    VOUCHER_ISSUED = "voucher.issued", pgettext_lazy("webhook event", "Voucher issued")
    VOUCHER_CANCELLED = "voucher.cancelled", pgettext_lazy("webhook event", "Voucher cancelled")


class WebhookStatus(models.TextChoices):
    """queued -> sending -> delivered, or back to queued (retry later), or failed."""

    QUEUED = "queued", pgettext_lazy("webhook status", "Queued")
    SENDING = "sending", pgettext_lazy("webhook status", "Sending")
    DELIVERED = "delivered", pgettext_lazy("webhook status", "Delivered")
    FAILED = "failed", pgettext_lazy("webhook status", "Failed")


class AssessmentResult(models.TextChoices):
    COMPETENT = "competent", pgettext_lazy("assessment result", "Competent")
    NOT_YET_COMPETENT = "not_yet", pgettext_lazy("assessment result", "Not yet competent")
