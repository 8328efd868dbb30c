"""Ratings and reviews of completed trainings, and evaluation surveys.

    Completion ──1 Rating                       1-5 stars + review; the first completed training's rating
                                                 starts the training incentive (disbursement)
    Survey ──< SurveyVersion ──< Question       a published version is frozen; editing makes a new one
    Survey ──< SurveyAssignment >── User        one person's window (opens_on..deadline) for one survey
    SurveyAssignment ──< Answer >── Question    one row per answer (a multiple choice: one row per option)

Only ``surveys.services`` writes these rows.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from marketplace.models import Completion, Provider, Training
from registration.models import Province, Regency
from surveys.enums import AssignmentState, QuestionKind, VersionStatus

REVIEW_MAX_LENGTH = 2000


def local_today() -> datetime.date:
    return timezone.localdate()


class Rating(models.Model):
    """A participant's stars and review for one completed training."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="training_ratings",
        verbose_name=_("by"),
    )
    completion = models.OneToOneField(
        Completion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rating",
        verbose_name=_("completion"),
        help_text=_("Empty only for synthetic demo ratings."),
    )
    training = models.ForeignKey(
        Training, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("training"), db_index=False
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("provider"), db_index=False
    )
    stars = models.PositiveSmallIntegerField(_("stars (1-5)"))
    review = models.TextField(_("review"), max_length=REVIEW_MAX_LENGTH)
    # Shown with the review: first name and regency only, copied when the rating is made.
    reviewer_first_name = models.CharField(_("reviewer's first name"), max_length=60, blank=True)
    reviewer_regency = models.ForeignKey(
        Regency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer's regency"),
    )
    counts_for_incentive = models.BooleanField(_("counts for the incentive"), default=False)
    incentive_started_on = models.DateField(
        _("incentive schedule started"),
        null=True,
        blank=True,
        help_text=_("Due date of the first training incentive payment; the evaluation surveys open from it."),
    )
    synthetic = models.BooleanField(_("synthetic (demo)"), default=False, editable=False)
    created_at = models.DateTimeField(_("rated"), default=timezone.now)
    hidden_at = models.DateTimeField(_("review hidden"), null=True, blank=True)
    hidden_reason = models.CharField(_("why the review is hidden"), max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hidden by"),
    )

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at", "-id"]
        permissions = [("hide_review", _("Can hide an abusive review"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(stars__gte=1, stars__lte=5), name="rating_stars_range"),
            models.CheckConstraint(
                condition=models.Q(completion__isnull=False) | models.Q(synthetic=True),
                name="rating_has_completion",
            ),
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(counts_for_incentive=True),
                name="rating_one_incentive_per_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["training", "-created_at"], name="rating_training_idx"),
            models.Index(fields=["provider", "stars"], name="rating_provider_idx"),
            models.Index(fields=["owner"], name="rating_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.stars}★ · {self.training_id}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Survey(models.Model):
    """An evaluation survey. ``number`` (1, 2, 3) is also the number of its Rp50.000 incentive."""

    number = models.PositiveSmallIntegerField(_("survey number"), unique=True)
    title_id = models.CharField(_("title (Indonesian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    intro_id = models.TextField(_("introduction (Indonesian)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    opens_after_days = models.PositiveSmallIntegerField(
        _("opens (days after the first training incentive)"), default=0
    )
    open_days = models.PositiveSmallIntegerField(_("stays open (days)"), default=30)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("evaluation survey")
        verbose_name_plural = _("evaluation surveys")
        ordering = ["number"]
        permissions = [("view_results", _("Can see and export survey results"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(open_days__gte=1), name="survey_open_days_positive"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="survey_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "id").startswith("en") else self.title_id

    @property
    def intro(self) -> str:
        return self.intro_en if (get_language() or "id").startswith("en") else self.intro_id


class SurveyVersion(models.Model):
    """One set of questions. Published: frozen (``surveys.services`` refuses every change)."""

    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="versions", verbose_name=_("survey")
    )
    number = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey version")
        verbose_name_plural = _("survey versions")
        ordering = ["survey__number", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_unique_number"),
            # At most one draft per survey: "edit" opens it, "publish" freezes it.
            models.UniqueConstraint(
                fields=["survey"], condition=models.Q(status="draft"), name="survey_version_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return str(_("%(survey)s, version %(number)s") % {"survey": self.survey, "number": self.number})

    @property
    def is_frozen(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class Question(models.Model):
    version = models.ForeignKey(
        SurveyVersion, on_delete=models.PROTECT, related_name="questions", verbose_name=_("version")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    required = models.BooleanField(_("required"), default=True)
    label_id = models.CharField(_("question (Indonesian)"), max_length=300)
    label_en = models.CharField(_("question (English)"), max_length=300)
    # Single and multiple choice: [{"value": "a", "label_id": "...", "label_en": "..."}, ...]
    options = models.JSONField(_("options"), default=list, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="question_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.label}"

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "id").startswith("en") else self.label_id

    def choices(self) -> list[tuple[str, str]]:
        """(value, label in the current language) of every option; 1..5 for a scale."""
        if self.kind == QuestionKind.SCALE:
            return [(str(n), str(n)) for n in range(1, 6)]
        english = (get_language() or "id").startswith("en")
        return [(o["value"], o["label_en"] if english else o["label_id"]) for o in self.options]


class SurveyAssignment(models.Model):
    """One person's window for one survey: open from ``opens_on`` through ``deadline`` (Asia/Jakarta)."""

    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("survey"), db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="survey_assignments",
        verbose_name=_("participant"),
    )
    # Copied from the profile when assigned: results per province without joining the applicants.
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )
    opens_on = models.DateField(_("opens on"))
    deadline = models.DateField(_("last day to answer"))
    version = models.ForeignKey(
        SurveyVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("answered version"),
        help_text=_("Fixed at the first answer: a new version never changes a started survey."),
    )
    started_at = models.DateTimeField(_("first answer"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    opened_notified_at = models.DateTimeField(_("told it opened"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded before closing"), null=True, blank=True)
    created_at = models.DateTimeField(_("assigned"), default=timezone.now)

    class Meta:
        verbose_name = _("survey assignment")
        verbose_name_plural = _("survey assignments")
        ordering = ["opens_on", "survey__number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "owner"], name="assignment_unique_owner"),
            models.CheckConstraint(
                condition=models.Q(deadline__gte=models.F("opens_on")), name="assignment_window"
            ),
        ]
        indexes = [
            models.Index(fields=["survey", "submitted_at"], name="assignment_survey_idx"),
            models.Index(
                fields=["opens_on"], name="assignment_open_idx", condition=models.Q(opened_notified_at=None)
            ),
            models.Index(
                fields=["deadline"], name="assignment_remind_idx", condition=models.Q(reminded_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.owner_id}"

    def state(self, today: datetime.date | None = None) -> str:
        today = today or local_today()
        if self.submitted_at is not None:
            return AssignmentState.SUBMITTED
        if today < self.opens_on:
            return AssignmentState.NOT_YET_OPEN
        if today > self.deadline:
            return AssignmentState.CLOSED
        return AssignmentState.OPEN


class Answer(models.Model):
    """One answer. A multiple-choice question has one row per chosen option."""

    assignment = models.ForeignKey(
        SurveyAssignment, on_delete=models.CASCADE, related_name="answers", verbose_name=_("assignment")
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    option = models.CharField(_("option"), max_length=40, blank=True)
    number = models.BigIntegerField(_("number"), null=True, blank=True)
    text = models.CharField(_("text"), max_length=500, blank=True)
    saved_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "question", "option"], name="answer_unique_option"),
        ]
        indexes = [models.Index(fields=["question", "option"], name="answer_question_idx")]

    def __str__(self) -> str:
        return self.option or (str(self.number) if self.number is not None else self.text[:40])
