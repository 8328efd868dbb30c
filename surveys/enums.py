"""States and kinds of the surveys app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    SCALE = "scale", _("Scale 1-5")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Short text")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("survey version", "Draft")
    PUBLISHED = "published", pgettext_lazy("survey version", "Published")


class AssignmentState(models.TextChoices):
    """Where one person's survey stands today (computed, not stored)."""

    NOT_YET_OPEN = "not_yet_open", pgettext_lazy("survey window", "Not open yet")
    OPEN = "open", pgettext_lazy("survey window", "Open")
    SUBMITTED = "submitted", pgettext_lazy("survey window", "Answered")
    CLOSED = "closed", pgettext_lazy("survey window", "Closed")
