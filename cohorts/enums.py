from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WaveStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("wave status", "Draft")
    OPEN = "open", pgettext_lazy("wave status", "Open for registration")
    CLOSED = "closed", pgettext_lazy("wave status", "Closed")
    SELECTING = "selecting", pgettext_lazy("wave status", "Selection in progress")
    ANNOUNCED = "announced", pgettext_lazy("wave status", "Announced")


class ApplicationStatus(models.TextChoices):
    """Stored outcome. What the applicant sees also depends on the wave (see Application.public_status)."""

    PENDING = "pending", pgettext_lazy("wave application", "Pending selection")
    SELECTED = "selected", pgettext_lazy("wave application", "Selected")
    NOT_SELECTED = "not_selected", pgettext_lazy("wave application", "Not selected")
    INELIGIBLE = "ineligible", pgettext_lazy("wave application", "No longer eligible")


class ParticipantStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("participant status", "Active")
    REVOKED = "revoked", pgettext_lazy("participant status", "Revoked")
    ENDED = "ended", pgettext_lazy("participant status", "Programme ended")


class RunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("background job", "Queued")
    RUNNING = "running", pgettext_lazy("background job", "Running")
    DONE = "done", pgettext_lazy("background job", "Done")
    FAILED = "failed", pgettext_lazy("background job", "Failed")


class RunKind(models.TextChoices):
    DRY_RUN = "dry_run", _("Selection dry run")
    SELECTION = "selection", _("Selection")
    ANNOUNCEMENT = "announcement", _("Announcement")
    NOTIFY = "notify", _("Notifications to the wave")
