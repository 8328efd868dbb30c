"""Factories and helpers for registration tests."""

from __future__ import annotations

import datetime

import factory

from prakerja.roles import Role
from registration.enums import Education, EmploymentStatus, Gender, ScreeningCategory, ScreeningKind
from registration.models import CivilRecord, DisnakerStaff, Province, ScreeningList
from registration.services import ProfileInput
from tests.factories import UserFactory, make_nik

TODAY = datetime.date(2026, 11, 22)


def profile_input(**overrides) -> ProfileInput:
    """A valid profile: a man born 14 March 1995 living in Bekasi Timur."""
    birth_date = overrides.pop("birth_date", datetime.date(1995, 3, 14))
    gender = overrides.pop("gender", Gender.MALE)
    serial = overrides.pop("serial", 1)
    values = {
        "nik": make_nik(birth_date=birth_date, gender=gender, serial=serial),
        "kk_number": "3275010101100001",
        "full_name": "Budi Santoso",
        "birth_place": "Bekasi",
        "birth_date": birth_date,
        "gender": gender,
        "address": "Jl. Merdeka No. 1, RT 01/RW 02",
        "district_code": "32.75.01",
        "education": Education.SMA,
        "employment_status": EmploymentStatus.LAID_OFF,
    }
    values.update(overrides)
    return ProfileInput(**values)


def profile_post(data: ProfileInput | None = None, **extra) -> dict:
    """The profile form's POST body for ``data``."""
    data = data or profile_input()
    district = data.district_code
    body = {
        "nik": data.nik,
        "kk_number": data.kk_number,
        "full_name": data.full_name,
        "birth_place": data.birth_place,
        "birth_date": data.birth_date.isoformat(),
        "gender": data.gender,
        "address": data.address,
        "province": district[:2],
        "regency": district[:5],
        "district": district,
        "education": data.education,
        "employment_status": data.employment_status,
        "not_civil_servant": "on",
        "not_military_police": "on",
        "not_village_official": "on",
        "not_legislator": "on",
        "not_state_company_board": "on",
        "not_student": "on",
        "consent": "on",
    }
    body.update(extra)
    return body


class CivilRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CivilRecord

    nik = factory.Sequence(
        lambda n: make_nik(birth_date=datetime.date(1995, 3, 14), gender="M", serial=n + 1)
    )
    kk_number = "3275010101100001"
    full_name = "Budi Santoso"
    birth_place = "Bekasi"
    birth_date = datetime.date(1995, 3, 14)
    gender = Gender.MALE


def civil_record_for(data: ProfileInput, **overrides) -> CivilRecord:
    values = {
        "nik": data.nik,
        "kk_number": data.kk_number,
        "full_name": data.full_name,
        "birth_place": data.birth_place,
        "birth_date": data.birth_date,
        "gender": data.gender,
    }
    values.update(overrides)
    return CivilRecord.objects.create(**values)


class ScreeningListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScreeningList

    kind = ScreeningKind.EXCLUSION
    category = ScreeningCategory.CIVIL_SERVANT
    name = "ASN aktif"
    source = "BKN"
    reference_date = datetime.date(2026, 10, 1)
    reason = "Terdaftar sebagai ASN"


def disnaker_user(province_code: str = "32", email: str = "disnaker@example.id"):
    from django.contrib.auth.models import Group

    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=Role.DISNAKER_STAFF))
    DisnakerStaff.objects.create(
        user=user, province=Province.objects.get(code=province_code), office_name="Disnaker"
    )
    return user


def officer(*, full_nik: bool = False, email: str = "petugas@example.id"):
    from django.contrib.auth.models import Group, Permission

    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    if full_nik:
        user.user_permissions.add(Permission.objects.get(codename="view_full_nik"))
    return user


def kemnaker_user(email: str = "kemnaker@example.id"):
    from django.contrib.auth.models import Group

    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=Role.KEMNAKER_OFFICER))
    return user
