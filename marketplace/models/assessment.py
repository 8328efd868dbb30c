"""Competency assessment: accredited assessor institutions (LSP) and their results.

Officers mark a training as ending with a competency assessment by one institution
(``Training.assessor_institution``, set only through
``marketplace.services.training_assessment_set``). The institution's assessors record one
result per completion of such a training (``assessment_record``); the certificate page and
PDF show it and the provider evaluation counts it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.enums import AssessmentResult


class AssessorInstitution(models.Model):
    """A professional certification body (LSP) accredited by BNSP."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    licence_number = models.CharField(
        _("BNSP licence number"), max_length=64, unique=True, help_text=_("The accreditation licence.")
    )
    active = models.BooleanField(_("active"), default=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("assessor institution")
        verbose_name_plural = _("assessor institutions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Assessor(models.Model):
    """A console account of an assessor institution (role Competency Assessor)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessor", verbose_name=_("user")
    )
    institution = models.ForeignKey(
        AssessorInstitution,
        on_delete=models.PROTECT,
        related_name="assessors",
        verbose_name=_("assessor institution"),
    )

    class Meta:
        verbose_name = _("assessor")
        verbose_name_plural = _("assessors")

    def __str__(self) -> str:
        return f"{self.user} ({self.institution})"


class CompetencyAssessment(models.Model):
    """The result of one participant's competency assessment after a completed training."""

    completion = models.OneToOneField(
        "marketplace.Completion",
        on_delete=models.PROTECT,
        related_name="assessment",
        verbose_name=_("completion"),
    )
    institution = models.ForeignKey(
        AssessorInstitution,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("assessor institution"),
    )
    result = models.CharField(_("result"), max_length=10, choices=AssessmentResult.choices)
    assessed_on = models.DateField(_("assessment date"))
    certificate_number = models.CharField(
        _("competency certificate number"),
        max_length=64,
        blank=True,
        help_text=_("The BNSP certificate number; only for a competent result."),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("competency assessment")
        verbose_name_plural = _("competency assessments")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "certificate_number"],
                condition=~models.Q(certificate_number=""),
                name="assessment_unique_certificate",
            ),
            models.CheckConstraint(
                condition=models.Q(result=AssessmentResult.COMPETENT, certificate_number__gt="")
                | models.Q(result=AssessmentResult.NOT_YET_COMPETENT, certificate_number=""),
                name="assessment_certificate_only_when_competent",
                violation_error_message=_(
                    "A competency certificate number is given for a competent result, and only for it."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.completion} · {self.get_result_display()}"
