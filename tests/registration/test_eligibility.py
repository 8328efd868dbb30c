"""applicant_eligibility: the registration-level rules other apps build on."""

import datetime

import pytest

from registration.enums import CivilRegistryStatus
from registration.services import applicant_eligibility
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 22)


def test_verified_applicant_is_eligible():
    result = applicant_eligibility(applicant=ApplicantFactory(), today=TODAY)
    assert (result.eligible, result.reasons) == (True, [])


def test_no_applicant_record():
    result = applicant_eligibility(applicant=None)
    assert (result.eligible, result.codes) == (False, ["no_profile"])
    assert result.reasons[0].message == "Lengkapi profil Anda terlebih dahulu."


@pytest.mark.parametrize(
    ("overrides", "codes"),
    [
        ({"profile_completed_at": None}, ["profile_incomplete"]),
        ({"phone_verified_at": None}, ["phone_unverified"]),
        ({"civil_status": CivilRegistryStatus.PENDING}, ["civil_pending"]),
        ({"civil_status": CivilRegistryStatus.UNAVAILABLE}, ["civil_pending"]),
        ({"civil_status": CivilRegistryStatus.NOT_CHECKED}, ["civil_not_checked"]),
        ({"civil_status": CivilRegistryStatus.MISMATCH}, ["civil_mismatch"]),
        ({"civil_status": CivilRegistryStatus.NOT_FOUND}, ["civil_not_found"]),
        ({"is_excluded": True, "exclusion_reason": "Terdaftar sebagai ASN"}, ["excluded"]),
        (
            {"phone_verified_at": None, "civil_status": CivilRegistryStatus.MISMATCH, "is_excluded": True},
            ["phone_unverified", "civil_mismatch", "excluded"],
        ),
    ],
)
def test_each_failed_rule_is_a_reason(overrides, codes):
    result = applicant_eligibility(applicant=ApplicantFactory(**overrides), today=TODAY)
    assert (result.eligible, result.codes) == (False, codes)
    assert all(reason.message for reason in result.reasons)


def test_age_is_checked_on_the_day_of_the_wave():
    applicant = ApplicantFactory(birth_date=datetime.date(1961, 11, 23))
    assert applicant_eligibility(applicant=applicant, today=TODAY).eligible is True
    later = applicant_eligibility(applicant=applicant, today=datetime.date(2026, 11, 23))
    assert (later.codes, later.reasons[0].message) == (
        ["too_old"],
        "Program ini untuk usia 18 sampai 64 tahun; usia Anda 65 tahun atau lebih.",
    )


def test_messages_follow_the_active_language():
    from django.utils import translation

    applicant = ApplicantFactory(phone_verified_at=None, user=UserFactory(language="en"))
    with translation.override("en"):
        result = applicant_eligibility(applicant=applicant, today=TODAY)
    assert result.reasons[0].message == "Your mobile number is not verified."
