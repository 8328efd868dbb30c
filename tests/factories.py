"""factory_boy factories shared by every app's tests.

Apps add their own factories in ``tests/<app>/factories.py``.
"""

from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from prakerja.models import User
from registration.enums import CivilRegistryStatus, Education, EmploymentStatus, Gender
from registration.models import Applicant, District


def make_nik(*, district_code: str = "32.75.01", birth_date: datetime.date, gender: str, serial: int) -> str:
    """A structurally valid NIK: district (6) + birth date DDMMYY (+40 on the day for women) + serial (4)."""
    day = birth_date.day + (40 if gender == Gender.FEMALE else 0)
    return f"{district_code.replace('.', '')}{day:02d}{birth_date:%m%y}{serial:04d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"pelamar{n}@example.id")
    password = factory.PostGenerationMethodCall("set_password", "rahasia-panjang-2026")

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if create:
            self.save()


class ApplicantFactory(factory.django.DjangoModelFactory):
    """A complete applicant whose NIK the civil registry has verified."""

    class Meta:
        model = Applicant

    class Params:
        district_code = "32.75.01"  # Bekasi Timur, Kota Bekasi, Jawa Barat

    user = factory.SubFactory(UserFactory)
    gender = Gender.MALE
    birth_date = datetime.date(1995, 3, 14)
    nik = factory.LazyAttributeSequence(
        lambda o, n: make_nik(
            district_code=o.district_code, birth_date=o.birth_date, gender=o.gender, serial=n + 1
        )
    )
    kk_number = factory.Sequence(lambda n: f"3275{n:012d}")
    full_name = factory.Faker("name", locale="id_ID")
    birth_place = "Bekasi"
    address = "Jl. Merdeka No. 1"
    district = factory.LazyAttribute(lambda o: District.objects.get(code=o.district_code))
    regency = factory.LazyAttribute(lambda o: o.district.regency)
    province = factory.LazyAttribute(lambda o: o.district.regency.province)
    education = Education.SMA
    employment_status = EmploymentStatus.LAID_OFF
    declarations_version = "2026-01"
    declarations_at = factory.LazyFunction(timezone.now)
    consent_version = "2026-01"
    consent_at = factory.LazyFunction(timezone.now)
    profile_completed_at = factory.LazyFunction(timezone.now)
    phone = factory.Sequence(lambda n: f"+62812{n:08d}")
    phone_verified_at = factory.LazyFunction(timezone.now)
    civil_status = CivilRegistryStatus.VERIFIED
    civil_checked_at = factory.LazyFunction(timezone.now)


def reauthenticate(client, password: str = "rahasia-panjang-2026") -> None:
    """Confirm the signed-in user's password again (allauth), as console screens that change
    where money or secrets go require (prakerja.admin.RecentAuthRequiredMixin)."""
    from django.urls import reverse

    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content.decode()[:300]
