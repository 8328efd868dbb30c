import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from kyc.enums import CaseStatus, ReviewReason
from kyc.models import DuplicateCandidate, KycCase, KycSubmission, VerifiedFace
from prakerja.roles import Role
from registration.models import Applicant

pytestmark = pytest.mark.django_db


def test_demo_builds_a_review_queue_and_is_idempotent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    demo = Applicant.objects.filter(user__email__endswith="@kyc.demo.prakerja.test")
    assert sorted(int(nik[-4:]) for nik in demo.values_list("nik", flat=True)) == [5001, 5002, 5003, 5004]
    cases = {
        case.applicant.full_name: case
        for case in KycCase.objects.select_related("applicant", "latest_submission")
    }
    assert cases["Andi Saputra"].status == CaseStatus.VERIFIED
    assert (cases["Bagus Pratama"].status, cases["Bagus Pratama"].review_reason) == (
        CaseStatus.REVIEW,
        ReviewReason.DUPLICATE,
    )
    assert (cases["Citra Handoko"].status, cases["Citra Handoko"].review_reason) == (
        CaseStatus.REVIEW,
        ReviewReason.BORDERLINE,
    )
    assert 0.45 < cases["Citra Handoko"].latest_submission.distance <= 0.55
    assert DuplicateCandidate.objects.get().other_applicant == cases["Andi Saputra"].applicant
    counts = (Applicant.objects.count(), KycSubmission.objects.count(), VerifiedFace.objects.count())

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=out)
    assert (Applicant.objects.count(), KycSubmission.objects.count(), VerifiedFace.objects.count()) == counts
    assert "dewi.kusuma@kyc.demo.prakerja.test" in out.getvalue()


def test_only_kyc_reviewers_carry_the_review_permission():
    holders = set(
        Group.objects.filter(
            permissions__codename="review_kyccase", permissions__content_type__app_label="kyc"
        ).values_list("name", flat=True)
    )
    assert holders == {Role.KYC_REVIEWER.value}
    officer = set(Group.objects.get(name=Role.PROGRAMME_OFFICER).permissions.filter(content_type__app_label="kyc")
                  .values_list("codename", flat=True))  # fmt: skip
    assert officer == {"view_kyccase", "view_kycsubmission", "view_reviewqueuecase", "view_verifiedface",
                       "view_duplicatecandidate"}  # fmt: skip
