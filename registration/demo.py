"""Demo data for registration: applicants at each step, civil records, lists, Disnaker staff.

Idempotent: running it again changes nothing. NIK serials 0001-0999 and
``@demo.prakerja.test`` emails belong to this app; other apps use others.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from prakerja.demo import DemoLogin, demo_user
from prakerja.roles import Role
from registration.enums import Education, EmploymentStatus, Gender, ScreeningCategory, ScreeningKind
from registration.kemnaker import offline_approval_required, offline_submission_send
from registration.models import (
    Applicant,
    CivilRecord,
    DisnakerStaff,
    OfflineSubmission,
    Province,
    ScreeningEntry,
    ScreeningList,
)
from registration.services import (
    ProfileInput,
    applicant_civil_check,
    applicant_profile_save,
    applicant_register_offline,
    screening_apply,
)


def _nik(district: str, birth: datetime.date, gender: str, serial: int) -> str:
    day = birth.day + (40 if gender == Gender.FEMALE else 0)
    return f"{district.replace('.', '')}{day:02d}{birth:%m%y}{serial:04d}"


# email, name, gender, birth date, district, serial, KK, phone, state
PEOPLE = [
    (
        "peserta@prakerja.test",
        "Dewi Anggraini",
        "F",
        (1994, 7, 21),
        "32.75.01",
        1,
        "3275010101150001",
        "+6281100000001",
        "verified",
    ),
    (
        "profil.belum@demo.prakerja.test",
        "Rudi Hartono",
        "M",
        (1990, 1, 5),
        "32.04.05",
        2,
        "",
        "",
        "no_profile",
    ),
    (
        "hp.belum@demo.prakerja.test",
        "Agus Salim",
        "M",
        (1988, 9, 30),
        "32.04.05",
        3,
        "3204050101150003",
        "",
        "phone_missing",
    ),
    (
        "nik.tidaksesuai@demo.prakerja.test",
        "Sri Wahyuni",
        "F",
        (1997, 2, 11),
        "32.73.01",
        4,
        "3273010101150004",
        "+6281100000004",
        "mismatch",
    ),
    (
        "terverifikasi@demo.prakerja.test",
        "Yusuf Maulana",
        "M",
        (1999, 12, 1),
        "31.71.01",
        5,
        "3171010101150005",
        "+6281100000005",
        "verified",
    ),
    (
        "dikecualikan@demo.prakerja.test",
        "Bambang Sutrisno",
        "M",
        (1985, 4, 17),
        "33.74.01",
        6,
        "3374010101150006",
        "+6281100000006",
        "excluded",
    ),
    (
        "prioritas@demo.prakerja.test",
        "Rina Marlina",
        "F",
        (1992, 10, 3),
        "32.04.05",
        7,
        "3204050101150007",
        "+6281100000007",
        "priority",
    ),
]
OFFLINE_PERSON = ("Nur Aini", "F", (1991, 6, 9), "32.04.05", 8, "3204050101150008", "+6281100000008")
# Registered offline by disnaker.jabar and sent to Kemnaker: the submission waits for kemnaker@.
SUBMITTED_PEOPLE = [
    ("Asep Sunandar", "M", (1988, 2, 17), "32.04.05", 9, "3204050101150009", "+6281100000009"),
    ("Euis Komariah", "F", (1993, 8, 25), "32.04.05", 10, "3204050101150010", "+6281100000010"),
    ("Ujang Hidayat", "M", (1997, 12, 1), "32.04.05", 11, "3204050101150011", "+6281100000011"),
]
EXCLUDED_EXTRA = ["3275011203800901", "3273015506850902"]


def _profile(name, gender, birth, district, serial, kk) -> ProfileInput:
    birth_date = datetime.date(*birth)
    return ProfileInput(
        nik=_nik(district, birth_date, gender, serial),
        kk_number=kk,
        full_name=name,
        birth_place="Bandung",
        birth_date=birth_date,
        gender=gender,
        address=f"Jl. Contoh No. {serial}, RT 01/RW 02",
        district_code=district,
        education=Education.SMA,
        employment_status=EmploymentStatus.LAID_OFF,
    )


def _civil_record(data: ProfileInput, *, full_name: str | None = None) -> None:
    CivilRecord.objects.get_or_create(
        nik=data.nik,
        defaults={
            "kk_number": data.kk_number,
            "full_name": (full_name or data.full_name).upper(),
            "birth_place": data.birth_place,
            "birth_date": data.birth_date,
            "gender": data.gender,
        },
    )


def _lists(excluded_nik: str, priority_nik: str, officer) -> None:
    asn, _created = ScreeningList.objects.get_or_create(
        name="ASN aktif (demo)",
        defaults={
            "kind": ScreeningKind.EXCLUSION,
            "category": ScreeningCategory.CIVIL_SERVANT,
            "source": "BKN",
            "reference_date": datetime.date(2026, 10, 1),
            "reason": "Terdaftar sebagai Aparatur Sipil Negara (ASN)",
            "created_by": officer,
        },
    )
    phk, _created = ScreeningList.objects.get_or_create(
        name="Pekerja korban PHK (demo)",
        defaults={
            "kind": ScreeningKind.PRIORITY,
            "category": ScreeningCategory.LAID_OFF,
            "source": "BPJS Ketenagakerjaan",
            "reference_date": datetime.date(2026, 10, 15),
            "reason": "Pekerja korban PHK",
            "created_by": officer,
        },
    )
    for screening_list, niks in ((asn, [excluded_nik, *EXCLUDED_EXTRA]), (phk, [priority_nik])):
        ScreeningEntry.objects.bulk_create(
            [
                ScreeningEntry(screening_list=screening_list, batch=screening_list.current_batch, nik=nik)
                for nik in niks
            ],
            ignore_conflicts=True,
        )
        count = ScreeningEntry.objects.filter(
            screening_list=screening_list, batch=screening_list.current_batch
        ).count()
        ScreeningList.objects.filter(pk=screening_list.pk).update(
            entry_count=count, last_imported_at=timezone.now()
        )


def demo_load(*, stdout) -> list[DemoLogin]:
    staff_user = demo_user(
        "disnaker.jabar@prakerja.test",
        first_name="Agus",
        last_name="Permana",
        staff=True,
        roles=[Role.DISNAKER_STAFF],
    )
    DisnakerStaff.objects.get_or_create(
        user=staff_user,
        defaults={"province": Province.objects.get(code="32"), "office_name": "Disnakertrans Jawa Barat"},
    )
    profiles = {}
    for email, name, gender, birth, district, serial, kk, phone, state in PEOPLE:
        first, _space, last = name.partition(" ")
        user = demo_user(email, first_name=first, last_name=last)
        data = _profile(name, gender, birth, district, serial, kk)
        profiles[state] = data
        if state == "no_profile" or Applicant.objects.filter(user=user).exists():
            continue
        _civil_record(data, full_name="Sri Wahyuningsih" if state == "mismatch" else None)
        with transaction.atomic():
            applicant = applicant_profile_save(user=user, data=data)
            if phone:
                Applicant.objects.filter(pk=applicant.pk).update(
                    phone=phone, phone_verified_at=timezone.now()
                )
        applicant_civil_check(applicant_id=applicant.pk)

    name, gender, birth, district, serial, kk, phone = OFFLINE_PERSON
    offline = _profile(name, gender, birth, district, serial, kk)
    if not Applicant.objects.filter(nik=offline.nik).exists():
        _civil_record(offline)
        applicant = applicant_register_offline(staff_user=staff_user, data=offline, phone=phone)
        applicant_civil_check(applicant_id=applicant.pk)

    _lists(profiles["excluded"].nik, profiles["priority"].nik, staff_user)
    screening_apply()
    _kemnaker_submission(staff_user, stdout)
    return [
        DemoLogin("disnaker.jabar@prakerja.test", f"{Role.DISNAKER_STAFF.value} (Jawa Barat)"),
        DemoLogin("kemnaker@prakerja.test", f"{Role.KEMNAKER_OFFICER.value}: a Jawa Barat submission waits"),
        DemoLogin("profil.belum@demo.prakerja.test", "applicant: profile missing"),
        DemoLogin("hp.belum@demo.prakerja.test", "applicant: mobile number not verified"),
        DemoLogin("nik.tidaksesuai@demo.prakerja.test", "applicant: name does not match Dukcapil"),
        DemoLogin("terverifikasi@demo.prakerja.test", "applicant: verified (DKI Jakarta)"),
        DemoLogin("dikecualikan@demo.prakerja.test", "applicant: on the ASN exclusion list"),
        DemoLogin("prioritas@demo.prakerja.test", "applicant: verified, on the PHK priority list"),
    ]


def _kemnaker_submission(staff_user, stdout) -> None:
    """A Kemnaker officer, and a Jawa Barat submission waiting: the province's offline registrations
    (three more people, one unknown to the civil registry: a row issue for the reviewer)."""
    demo_user(
        "kemnaker@prakerja.test",
        first_name="Hendra",
        last_name="Gunawan",
        staff=True,
        roles=[Role.KEMNAKER_OFFICER],
    )
    if OfflineSubmission.objects.exists():
        return
    for index, (name, gender, birth, district, serial, kk, phone) in enumerate(SUBMITTED_PEOPLE):
        data = _profile(name, gender, birth, district, serial, kk)
        if Applicant.objects.filter(nik=data.nik).exists():
            continue
        if index < 2:  # the third is unknown to the demo civil registry: a row issue for the reviewer
            _civil_record(data)
        applicant = applicant_register_offline(staff_user=staff_user, data=data, phone=phone)
        applicant_civil_check(applicant_id=applicant.pk)
    if not offline_approval_required():
        return
    submission = offline_submission_send(staff_user=staff_user)
    stdout.write(
        f"Registration demo: submission {submission.reference} ({submission.person_count} people) "
        "waits for kemnaker@prakerja.test."
    )
