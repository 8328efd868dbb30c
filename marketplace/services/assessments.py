"""Competency assessment: which trainings end with one, and the assessors' results."""

from __future__ import annotations

import datetime
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.codes import code_normalize
from marketplace.enums import AssessmentResult
from marketplace.exceptions import MarketplaceError
from marketplace.models import Assessor, AssessorInstitution, CompetencyAssessment, Completion, Training
from prakerja.audit import audit_log, field_changes_apply

CERTIFICATE_NUMBER = re.compile(r"[A-Za-z0-9./ -]{3,64}")


class AssessmentRefused(MarketplaceError):
    """codes: not_an_assessor, certificate_unknown, no_assessment_needed, other_institution,
    already_recorded, date_invalid, certificate_number_invalid, certificate_number_taken,
    institution_inactive."""

    code = "assessment_refused"


def training_assessment_set(*, training_id: int, institution_id: int | None, actor) -> Training:
    """Mark a training as ending with an assessment by ``institution_id``, or (None) as needing none."""
    with transaction.atomic():
        training = Training.objects.select_for_update().get(pk=training_id)
        institution = None
        if institution_id is not None:
            institution = AssessorInstitution.objects.filter(pk=institution_id).first()
            if institution is None or not institution.active:
                raise AssessmentRefused(
                    _("This assessor institution is not active."), code="institution_inactive"
                )
        before = [training.assessment_required, training.assessor_institution_id]
        after = [institution is not None, institution.pk if institution else None]
        if before == after:
            return training
        Training.objects.filter(pk=training.pk).update(
            assessment_required=after[0], assessor_institution=institution
        )
        training.assessment_required, training.assessor_institution = after[0], institution
        audit_log(
            actor=actor,
            action="marketplace.training.assessment_set",
            obj=training,
            data={
                "assessment_required": [before[0], after[0]],
                "assessor_institution_id": [before[1], after[1]],
            },
        )
    return training


def assessment_record(
    *,
    actor,
    verification_code: str,
    result: str,
    assessed_on: datetime.date,
    certificate_number: str = "",
) -> CompetencyAssessment:
    """An assessor records the result for the completion with this certificate verification code.

    Only for a training that needs an assessment by the assessor's own institution; one result
    per completion; the date between the completion and today; a certificate number only (and
    always) for a competent result.
    """
    assessor = getattr(actor, "assessor", None) if getattr(actor, "pk", None) else None
    if assessor is None:
        raise AssessmentRefused(_("Only an assessor can record results."), code="not_an_assessor")
    code = code_normalize(verification_code or "")
    completion = (
        Completion.objects.select_related("voucher__training").filter(verification_code=code).first()
        if code
        else None
    )
    if completion is None:
        raise AssessmentRefused(_("No certificate has this verification code."), code="certificate_unknown")
    training = completion.voucher.training
    if not training.assessment_required:
        raise AssessmentRefused(
            _("This training does not end with a competency assessment."), code="no_assessment_needed"
        )
    if training.assessor_institution_id != assessor.institution_id:
        raise AssessmentRefused(
            _("This training is assessed by another institution."), code="other_institution"
        )
    if result not in AssessmentResult.values:
        raise AssessmentRefused(_("Choose the result."), code="result_invalid")
    today = timezone.localdate()
    if assessed_on > today or assessed_on < timezone.localtime(completion.completed_at).date():
        raise AssessmentRefused(
            _("The assessment date must be between the completion of the training and today."),
            code="date_invalid",
        )
    certificate_number = " ".join((certificate_number or "").split())
    if result == AssessmentResult.COMPETENT:
        if not CERTIFICATE_NUMBER.fullmatch(certificate_number):
            raise AssessmentRefused(
                _("Write the competency certificate number (3-64 letters, digits, '.', '/', '-')."),
                code="certificate_number_invalid",
            )
    elif certificate_number:
        raise AssessmentRefused(
            _("A certificate number is given only for a competent result."),
            code="certificate_number_invalid",
        )
    try:
        with transaction.atomic():
            assessment = CompetencyAssessment.objects.create(
                completion=completion,
                institution_id=assessor.institution_id,
                result=result,
                assessed_on=assessed_on,
                certificate_number=certificate_number,
                recorded_by=actor,
            )
            audit_log(
                actor=actor,
                action="marketplace.assessment.recorded",
                obj=assessment,
                data={
                    "completion_id": completion.pk,
                    "training_id": training.pk,
                    "result": result,
                    "assessed_on": assessed_on.isoformat(),
                    "certificate_number": certificate_number,
                },
            )
    except IntegrityError:
        if CompetencyAssessment.objects.filter(completion=completion).exists():
            raise AssessmentRefused(
                _("A result was already recorded for this certificate."), code="already_recorded"
            ) from None
        raise AssessmentRefused(
            _("This competency certificate number was already recorded."), code="certificate_number_taken"
        ) from None
    return assessment


INSTITUTION_FIELDS = ("name", "licence_number", "active", "contact_email")


def assessor_institution_save(*, institution_id: int | None, actor, **fields) -> AssessorInstitution:
    """Create an assessor institution or change it (validated, audited before/after)."""
    unknown = set(fields) - set(INSTITUTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown institution fields: {sorted(unknown)}")
    with transaction.atomic():
        institution = (
            AssessorInstitution()
            if institution_id is None
            else AssessorInstitution.objects.select_for_update().get(pk=institution_id)
        )
        changes = field_changes_apply(institution, fields)
        if not changes and institution_id is not None:
            return institution
        institution.full_clean()
        institution.save()
        audit_log(
            actor=actor,
            action="marketplace.assessor_institution.created"
            if institution_id is None
            else "marketplace.assessor_institution.changed",
            obj=institution,
            data={"changes": changes},
        )
    return institution


def assessor_assign(*, user, institution_id: int, actor) -> Assessor:
    """Make ``user`` an assessor of the institution: console access with the Competency Assessor role."""
    from django.contrib.auth.models import Group

    from prakerja.roles import Role

    with transaction.atomic():
        institution = AssessorInstitution.objects.get(pk=institution_id)
        assessor, created = Assessor.objects.update_or_create(
            user=user, defaults={"institution": institution}
        )
        if not user.is_staff:
            type(user).objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
        user.groups.add(Group.objects.get(name=Role.ASSESSOR))
        audit_log(
            actor=actor,
            action="marketplace.assessor.assigned",
            obj=institution,
            data={"user_id": user.pk, "new": created},
        )
    return assessor


def assessor_remove(*, assessor_id: int, actor) -> None:
    """End an assessor's access: the link and the role go; the account stays."""
    from django.contrib.auth.models import Group

    from prakerja.roles import Role

    with transaction.atomic():
        assessor = Assessor.objects.select_related("user", "institution").get(pk=assessor_id)
        assessor.user.groups.remove(Group.objects.get(name=Role.ASSESSOR))
        audit_log(
            actor=actor,
            action="marketplace.assessor.removed",
            obj=assessor.institution,
            data={"user_id": assessor.user_id},
        )
        assessor.delete()
