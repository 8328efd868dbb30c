"""Demo data for waves: an announced wave with a participant to log in as, a closed
wave of a few hundred verified applicants ready for selection, and an open wave.

Idempotent. NIK serials 2001-2999 and ``@cohorts.demo.prakerja.test`` emails
belong to this app.
"""

from __future__ import annotations

import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from cohorts import services
from cohorts.enums import RunKind, WaveStatus
from cohorts.import_handlers import PROVINCE_QUOTAS
from cohorts.models import Application, Programme, ProvinceQuota, Wave
from kyc.enums import CaseStatus
from kyc.models import KycCase
from prakerja.demo import DEMO_PASSWORD, DemoLogin
from registration import imports
from registration.enums import (
    CivilRegistryStatus,
    Education,
    EmploymentStatus,
    Gender,
    ScreeningCategory,
    ScreeningKind,
)
from registration.models import Applicant, District, ScreeningEntry, ScreeningList
from registration.services import screening_apply

DOMAIN = "cohorts.demo.prakerja.test"
PARTICIPANT_EMAIL = f"kartu@{DOMAIN}"
POOL_SIZE = 300
# (province, district) pairs the demo pool lives in, with wave 2's province quotas.
QUOTA_OFFICER_EMAIL = "petugas@prakerja.test"
PROVINCES = [
    ("11", "11.71.01", 10),  # Aceh, Banda Aceh
    ("31", "31.71.01", 25),  # DKI Jakarta
    ("32", "32.73.01", 35),  # Jawa Barat, Kota Bandung
    ("33", "33.74.01", 25),  # Jawa Tengah, Kota Semarang
    ("35", "35.78.01", 30),  # Jawa Timur, Kota Surabaya
    ("73", "73.71.01", 15),  # Sulawesi Selatan, Kota Makassar
]
FIRST_NAMES = [
    "Agus",
    "Budi",
    "Citra",
    "Dewi",
    "Eka",
    "Fajar",
    "Gita",
    "Hadi",
    "Indah",
    "Joko",
    "Kartika",
    "Lestari",
]
LAST_NAMES = ["Saputra", "Wulandari", "Hidayat", "Pratama", "Siregar", "Nasution", "Simanjuntak", "Rahmawati"]


def _nik(district: str, birth: datetime.date, gender: str, serial: int) -> str:
    day = birth.day + (40 if gender == Gender.FEMALE else 0)
    return f"{district.replace('.', '')}{day:02d}{birth:%m%y}{serial:04d}"


def _pool(count: int, *, start_serial: int) -> list[Applicant]:
    """Verified applicants (NIK and KYC), created in bulk: no passwords to hash, a few queries."""
    User = get_user_model()
    districts = {
        code: District.objects.select_related("regency").get(code=code) for _p, code, _q in PROVINCES
    }
    now = timezone.now()
    users, applicants = [], []
    for i in range(count):
        serial = start_serial + i
        _province, district_code, _quota = PROVINCES[i % len(PROVINCES)]
        district = districts[district_code]
        gender = Gender.FEMALE if i % 2 else Gender.MALE
        birth = datetime.date(1975 + i % 30, 1 + i % 12, 1 + i % 28)
        user = User(email=f"pendaftar{serial}@{DOMAIN}", first_name=FIRST_NAMES[i % len(FIRST_NAMES)])
        user.set_unusable_password()
        users.append(user)
        applicants.append(
            Applicant(
                user=user,
                nik=_nik(district_code, birth, gender, serial),
                kk_number=f"{district_code.replace('.', '')}0101{serial:06d}",
                full_name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i % len(LAST_NAMES)]}",
                birth_place=district.regency.name,
                birth_date=birth,
                gender=gender,
                address="Jl. Contoh No. 1",
                province_id=district.regency.province_id,
                regency=district.regency,
                district=district,
                education=Education.SMA,
                employment_status=EmploymentStatus.LAID_OFF if i % 3 == 0 else EmploymentStatus.NOT_WORKING,
                declarations_version="2026-01",
                declarations_at=now,
                consent_version="2026-01",
                consent_at=now,
                profile_completed_at=now,
                phone=f"+62813{serial:08d}",
                phone_verified_at=now,
                civil_status=CivilRegistryStatus.VERIFIED,
                civil_checked_at=now,
            )
        )
    User.objects.bulk_create(users)
    users = {u.email: u for u in User.objects.filter(email__in=[u.email for u in users])}
    for applicant in applicants:
        applicant.user = users[applicant.user.email]
    Applicant.objects.bulk_create(applicants)
    applicants = list(
        Applicant.objects.filter(user__email__endswith=f"@{DOMAIN}", nik__in=[a.nik for a in applicants])
    )
    KycCase.objects.bulk_create(
        [KycCase(applicant=a, status=CaseStatus.VERIFIED, decided_at=now) for a in applicants]
    )
    return applicants


def _join(wave: Wave, applicants: list[Applicant]) -> None:
    Application.objects.bulk_create(
        [
            Application(
                wave=wave,
                applicant=a,
                province_id=a.province_id,
                kk_number=a.kk_number,
                is_priority=a.is_priority,
            )
            for a in applicants
        ],
        ignore_conflicts=True,
    )


def _demo_list(
    applicants: list[Applicant], *, kind: str, category: str, name: str, source: str, reason: str = ""
):
    """A screening list holding ``applicants``' NIKs, applied to them as an officer's import would."""
    screening_list = ScreeningList.objects.create(
        kind=kind,
        category=category,
        name=name,
        source=source,
        reason=reason,
        reference_date=timezone.now().date(),
        current_batch=1,
        entry_count=len(applicants),
    )
    ScreeningEntry.objects.bulk_create(
        [ScreeningEntry(screening_list=screening_list, batch=1, nik=a.nik) for a in applicants]
    )
    screening_apply(applicant_ids=[a.pk for a in applicants])
    return screening_list


def _open_and_close(wave: Wave) -> None:
    """Through the services, as officers would: opening commits the wave's seed."""
    services.wave_open(wave=wave)
    services.wave_close(wave=wave)


def _quotas_import(wave: Wave) -> None:
    """Wave 2's quotas arrive the way officers bring them: a spreadsheet on the import pipeline."""
    officer = get_user_model().objects.filter(email=QUOTA_OFFICER_EMAIL).first()
    if officer is None:  # the prakerja demo did not run: set them directly
        ProvinceQuota.objects.bulk_create(
            [ProvinceQuota(wave=wave, province_id=province, quota=quota) for province, _d, quota in PROVINCES]
        )
        return
    rows = "".join(f"{wave.number},{province},{quota}\n" for province, _d, quota in PROVINCES)
    upload = ContentFile(f"wave,province,quota\n{rows}".encode(), name=f"kuota-gelombang-{wave.number}.csv")
    job = imports.import_job_create(kind=PROVINCE_QUOTAS, upload=upload, user=officer)
    # Run the steps here (the queued tasks find them done and skip).
    imports.import_job_validate(job_id=job.pk)
    job.refresh_from_db()
    imports.import_job_confirm(job=job, actor=officer)
    imports.import_job_run(job_id=job.pk)


def demo_load(*, stdout) -> list[DemoLogin]:
    now = timezone.now()
    Programme.objects.get_or_create(pk=1, defaults={"end_date": datetime.date(now.year + 1, 6, 30)})

    if not Wave.objects.filter(number=1).exists():
        # Wave 1, announced: its participants have cards and balances. One of them can log in.
        wave1 = Wave.objects.create(
            number=1,
            name="Gelombang 1",
            opens_at=now - datetime.timedelta(days=40),
            closes_at=now - datetime.timedelta(days=33),
            total_quota=12,
            status=WaveStatus.DRAFT,
        )
        _open_and_close(wave1)
        applicants = _pool(20, start_serial=2001)
        star = applicants[0]
        star.user.email = PARTICIPANT_EMAIL
        star.user.set_password(DEMO_PASSWORD)
        star.user.save(update_fields=["email", "password"])

        EmailAddress.objects.get_or_create(
            user=star.user, email=PARTICIPANT_EMAIL, defaults={"verified": True, "primary": True}
        )
        Applicant.objects.filter(pk=star.pk).update(full_name="Bagus Kartono")  # the NIK says male
        # The demo login is on a priority list (laid-off workers), so the draw selects it first.
        _demo_list(
            [star],
            kind=ScreeningKind.PRIORITY,
            category=ScreeningCategory.LAID_OFF,
            name="Demo: pekerja terkena PHK (BPJS Ketenagakerjaan)",
            source="BPJS Ketenagakerjaan (demo)",
        )
        _join(wave1, Applicant.objects.filter(pk__in=[a.pk for a in applicants]).order_by("pk"))
        for kind in (RunKind.SELECTION, RunKind.ANNOUNCEMENT):
            # The seed committed (and published) when the wave opened; the draw page reveals it.
            run = services.selection_run_request(wave=wave1, kind=kind)
            services.selection_run_execute(run_id=run.pk)
        stdout.write("Cohorts demo: wave 1 announced.")

    if not Wave.objects.filter(number=2).exists():
        # Wave 2, closed: a pool of a few hundred verified applicants across six provinces, ready to select.
        wave2 = Wave.objects.create(
            number=2,
            name="Gelombang 2",
            opens_at=now - datetime.timedelta(days=10),
            closes_at=now - datetime.timedelta(days=1),
            total_quota=120,
            status=WaveStatus.DRAFT,
        )
        _open_and_close(wave2)
        _quotas_import(wave2)
        pool = _pool(POOL_SIZE, start_serial=2101)
        # Some of the pool were reported laid off (priority, drawn first) and a few turned out to be civil
        # servants after they joined (the selection's list re-check rules them out), so a dry run shows
        # every group.
        _demo_list(
            pool[::10],
            kind=ScreeningKind.PRIORITY,
            category=ScreeningCategory.LAID_OFF,
            name="Demo: laporan PHK Kemnaker (gelombang 2)",
            source="Kemnaker (demo)",
        )
        _join(wave2, Applicant.objects.filter(pk__in=[a.pk for a in pool]).order_by("pk"))
        _demo_list(
            pool[5:8],
            kind=ScreeningKind.EXCLUSION,
            category=ScreeningCategory.CIVIL_SERVANT,
            name="Demo: data ASN BKN (pembaruan)",
            source="BKN (demo)",
            reason="Tercatat sebagai Aparatur Sipil Negara (ASN)",
        )
        stdout.write(f"Cohorts demo: wave 2 closed with {POOL_SIZE} applicants, ready for selection.")

    if not Wave.objects.filter(number=3).exists():
        wave3 = Wave.objects.create(
            number=3,
            name="Gelombang 3",
            opens_at=now - datetime.timedelta(days=1),
            closes_at=now + datetime.timedelta(days=6),
            total_quota=100_000,
            status=WaveStatus.DRAFT,
        )
        services.wave_open(wave=wave3)  # commits its seed: the draw page shows the SHA-256
        stdout.write("Cohorts demo: wave 3 open for registration.")

    return [DemoLogin(PARTICIPANT_EMAIL, "participant (wave 1): card number and Rp1.000.000 balance")]
