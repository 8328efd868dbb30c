import datetime

import pytest
from django.db import IntegrityError

from registration.enums import Gender
from tests.factories import ApplicantFactory, make_nik

pytestmark = pytest.mark.django_db


def test_make_nik_encodes_district_birth_date_and_gender():
    assert make_nik(birth_date=datetime.date(1995, 3, 14), gender=Gender.MALE, serial=1) == "3275011403950001"
    assert (
        make_nik(birth_date=datetime.date(1995, 3, 14), gender=Gender.FEMALE, serial=2) == "3275015403950002"
    )


def test_applicant_factory_and_masking():
    applicant = ApplicantFactory()
    assert applicant.province.name == "Jawa Barat"
    assert applicant.masked_nik == applicant.nik[:4] + "\u2022" * 8 + applicant.nik[-4:]
    assert applicant.nik not in str(applicant)


def test_one_nik_one_applicant():
    first = ApplicantFactory()
    with pytest.raises(IntegrityError):
        ApplicantFactory(nik=first.nik)
