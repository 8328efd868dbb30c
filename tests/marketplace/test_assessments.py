"""Competency assessment: officers mark trainings, assessors of that institution record results."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from marketplace import services
from marketplace.certificates import certificate_facts, certificate_pdf
from marketplace.enums import AssessmentResult
from marketplace.models import AssessorInstitution, CompetencyAssessment
from marketplace.services import AssessmentRefused
from prakerja.audit import audit_entries_for
from prakerja.roles import Role
from surveys.selectors import provider_assessments_attach
from tests.factories import UserFactory
from tests.marketplace.factories import completed_training

pytestmark = pytest.mark.django_db


@pytest.fixture
def institution():
    return AssessorInstitution.objects.create(name="LSP Digital", licence_number="LSP-001")


@pytest.fixture
def officer():
    user = UserFactory(email="petugas@example.id", is_staff=True)
    user.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    return user


def _assessor(institution, email="asesor@example.id"):
    user = UserFactory(email=email)
    services.assessor_assign(user=user, institution_id=institution.pk, actor=None)
    user.refresh_from_db()
    return user


def _record(user, completion, **overrides):
    kwargs = {
        "actor": user,
        "verification_code": completion.display_verification_code,
        "result": AssessmentResult.COMPETENT,
        "assessed_on": timezone.localdate(),
        "certificate_number": "BNSP/2026/00001",
    }
    kwargs.update(overrides)
    return services.assessment_record(**kwargs)


def test_assessor_records_a_result_shown_on_the_certificate_page_and_pdf(client, institution, officer):
    completion = completed_training()
    training = completion.voucher.training
    services.training_assessment_set(training_id=training.pk, institution_id=institution.pk, actor=officer)
    assessor = _assessor(institution)
    assert assessor.is_staff and assessor.groups.filter(name=Role.ASSESSOR).exists()

    assessment = _record(assessor, completion)

    assert (assessment.result, assessment.certificate_number, assessment.institution) == (
        "competent",
        "BNSP/2026/00001",
        institution,
    )
    assert [e.action for e in audit_entries_for(training)] == ["marketplace.training.assessment_set"]
    assert [e.action for e in audit_entries_for(assessment)] == ["marketplace.assessment.recorded"]
    completion.refresh_from_db()
    facts = certificate_facts(completion)
    assert (facts.assessment_institution, facts.assessment_certificate_number) == (
        "LSP Digital",
        "BNSP/2026/00001",
    )
    client.force_login(completion.participant.applicant.user)
    page = client.get(reverse("marketplace:voucher", args=[completion.voucher.purchase.public_id]))
    assert "BNSP/2026/00001" in page.content.decode()
    assert b"BNSP/2026/00001" in certificate_pdf(completion)
    public = client.get(reverse("marketplace:certificate_verify", args=[completion.verification_code]))
    assert "LSP Digital" in public.content.decode()


def test_an_assessor_cannot_write_a_result_for_a_training_that_needs_none(institution):
    completion = completed_training()
    with pytest.raises(AssessmentRefused) as refused:
        _record(_assessor(institution), completion)
    assert refused.value.code == "no_assessment_needed"
    assert not CompetencyAssessment.objects.exists()


def test_an_assessor_cannot_write_a_result_for_another_institution(institution, officer):
    other = AssessorInstitution.objects.create(name="LSP Lain", licence_number="LSP-002")
    completion = completed_training()
    services.training_assessment_set(
        training_id=completion.voucher.training_id, institution_id=institution.pk, actor=officer
    )
    with pytest.raises(AssessmentRefused) as refused:
        _record(_assessor(other), completion)
    assert refused.value.code == "other_institution"
    assert not CompetencyAssessment.objects.exists()


def test_only_assessors_record_and_only_once_with_a_valid_date_and_number(institution, officer):
    completion = completed_training()
    services.training_assessment_set(
        training_id=completion.voucher.training_id, institution_id=institution.pk, actor=officer
    )
    assessor = _assessor(institution)
    with pytest.raises(AssessmentRefused) as refused:
        _record(officer, completion)
    assert refused.value.code == "not_an_assessor"
    cases = [
        ({"assessed_on": timezone.localdate() + datetime.timedelta(days=1)}, "date_invalid"),
        ({"assessed_on": timezone.localdate() - datetime.timedelta(days=30)}, "date_invalid"),
        ({"certificate_number": ""}, "certificate_number_invalid"),
        ({"result": AssessmentResult.NOT_YET_COMPETENT}, "certificate_number_invalid"),
        ({"verification_code": "ZZZZ-ZZZZ-ZZZZ"}, "certificate_unknown"),
    ]
    for overrides, code in cases:
        with pytest.raises(AssessmentRefused) as refused:
            _record(assessor, completion, **overrides)
        assert refused.value.code == code, overrides
    _record(assessor, completion, result=AssessmentResult.NOT_YET_COMPETENT, certificate_number="")
    with pytest.raises(AssessmentRefused) as refused:
        _record(assessor, completion)
    assert refused.value.code == "already_recorded"


def test_results_count_in_the_provider_evaluation(institution, officer):
    first = completed_training()
    second = completed_training()
    for completion in (first, second):
        services.training_assessment_set(
            training_id=completion.voucher.training_id, institution_id=institution.pk, actor=officer
        )
    assessor = _assessor(institution)
    _record(assessor, first)
    _record(assessor, second, result=AssessmentResult.NOT_YET_COMPETENT, certificate_number="")
    rows = provider_assessments_attach(
        [
            {"provider_id": first.voucher.training.provider_id},
            {"provider_id": second.voucher.training.provider_id},
        ]
    )
    assert [(r["assessed"], r["competent_percent"]) for r in rows] == [(1, 100.0), (1, 0.0)]


def test_console_assessor_sees_only_their_institution_and_records_through_the_form(
    client, institution, officer
):
    other = AssessorInstitution.objects.create(name="LSP Lain", licence_number="LSP-002")
    mine, theirs = completed_training(), completed_training()
    services.training_assessment_set(
        training_id=mine.voucher.training_id, institution_id=institution.pk, actor=officer
    )
    services.training_assessment_set(
        training_id=theirs.voucher.training_id, institution_id=other.pk, actor=officer
    )
    _record(_assessor(other, "lain@example.id"), theirs)
    assessor = _assessor(institution)
    client.force_login(assessor)
    response = client.post(
        reverse("admin:marketplace_competencyassessment_add"),
        {
            "verification_code": mine.display_verification_code,
            "result": "competent",
            "assessed_on": timezone.localdate().isoformat(),
            "certificate_number": "BNSP/2026/00002",
        },
    )
    assert response.status_code == 302
    listing = client.get(reverse("admin:marketplace_competencyassessment_changelist")).content.decode()
    assert "BNSP/2026/00002" in listing
    assert "BNSP/2026/00001" not in listing  # the other institution's result
    refused = client.post(
        reverse("admin:marketplace_competencyassessment_add"),
        {
            "verification_code": theirs.display_verification_code,
            "result": "not_yet",
            "assessed_on": timezone.localdate().isoformat(),
            "certificate_number": "",
        },
        follow=True,
    )
    assert "another institution" in refused.content.decode() or "lembaga lain" in refused.content.decode()
    assert CompetencyAssessment.objects.count() == 2


def test_officers_mark_trainings_with_a_console_action(client, institution, officer):
    completion = completed_training()
    training = completion.voucher.training
    client.force_login(officer)
    response = client.post(
        reverse("admin:marketplace_training_changelist"),
        {"action": f"assessment_by_{institution.pk}", "_selected_action": [training.pk]},
    )
    assert response.status_code == 302
    training.refresh_from_db()
    assert (training.assessment_required, training.assessor_institution_id) == (True, institution.pk)
    client.post(
        reverse("admin:marketplace_training_changelist"),
        {"action": "assessment_none", "_selected_action": [training.pk]},
    )
    training.refresh_from_db()
    assert (training.assessment_required, training.assessor_institution_id) == (False, None)
