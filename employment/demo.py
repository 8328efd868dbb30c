"""Demo job platforms: two platforms with API credentials, a participant who shares a job profile with
both (openings on /lowongan/, outcomes on the officers' programme dashboard)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from cohorts.models import Participant
from employment import services
from employment.enums import OutcomeKind
from employment.models import JobPlatform, JobPlatformCredential, JobProfile
from prakerja.demo import DemoLogin

PLATFORMS = [
    {
        "slug": "karirku",
        "name": "Karirku (demo)",
        "website": "https://karirku.example.id",
        "description": "Lowongan kerja formal di seluruh Indonesia",
        "contact_email": "mitra@karirku.example.id",
    },
    {
        "slug": "lokerpintar",
        "name": "LokerPintar (demo)",
        "website": "https://lokerpintar.example.id",
        "description": "Pekerjaan harian, paruh waktu dan UMKM di sekitar Anda",
        "contact_email": "mitra@lokerpintar.example.id",
    },
]
SHARING_EMAIL = "survei@surveys.demo.prakerja.test"

OPENINGS = [
    ("karirku", "KRK-2026-0141", "Staf Pemasaran Digital", "PT Niaga Maju Bersama", "Kota Bekasi", 21),
    ("karirku", "KRK-2026-0177", "Admin Media Sosial", "CV Kreasi Kita", "Jakarta Timur", 14),
    ("lokerpintar", "LP-88213", "Asisten Toko Daring (paruh waktu)", "Toko Batik Sekar", "Kota Bekasi", 10),
]


def demo_load(*, stdout) -> list[DemoLogin]:
    platforms = {}
    for data in PLATFORMS:
        platform = JobPlatform.objects.filter(slug=data["slug"]).first() or services.job_platform_save(
            platform_id=None, actor=None, active=True, **data
        )
        platforms[platform.slug] = platform
        if not JobPlatformCredential.objects.filter(platform=platform).exists():
            issued = services.job_platform_credential_issue(platform_id=platform.pk, actor=None)
            stdout.write(
                f"  job platform API {platform.slug}: key id {issued.credential.key_id} secret {issued.secret}"
            )
    participant = (
        Participant.objects.filter(applicant__user__email=SHARING_EMAIL).select_related("applicant").first()
    )
    if participant is None or not services.job_profile_eligible(participant=participant):
        stdout.write("Employment demo: no participant with a completed training to share a job profile.")
        return []
    if not JobProfile.objects.filter(participant=participant).exists():
        profile = services.job_profile_save(
            participant=participant,
            summary="Mencari pekerjaan di bidang pemasaran digital atau admin toko daring. "
            "Terbiasa mengelola media sosial usaha keluarga.",
        )
        services.job_sharing_set(
            profile=profile,
            platform_ids={p.pk for p in platforms.values()},
            consent_given=True,
            actor=participant.applicant.user,
        )
        today = timezone.localdate()
        for slug, external_id, title, company, location, days in OPENINGS:
            services.opening_receive(
                platform=platforms[slug],
                public_id=profile.public_id,
                external_id=external_id,
                title=title,
                company=company,
                location=location,
                url=f"{platforms[slug].website}/lowongan/{external_id}",
                closes_on=today + datetime.timedelta(days=days),
            )
        for kind, days_ago in ((OutcomeKind.APPLIED, 6), (OutcomeKind.INTERVIEWED, 2)):
            services.outcome_report(
                platform=platforms["karirku"],
                public_id=profile.public_id,
                kind=kind,
                occurred_on=today - datetime.timedelta(days=days_ago),
                job_reference="KRK-2026-0141",
            )
        services.outcome_report(
            platform=platforms["lokerpintar"],
            public_id=profile.public_id,
            kind=OutcomeKind.APPLIED,
            occurred_on=today - datetime.timedelta(days=1),
            job_reference="LP-88213",
        )
    stdout.write(
        f"Employment demo: {len(platforms)} job platforms; {SHARING_EMAIL} shares a job profile with both "
        "(openings at /lowongan/). Job platform API: /api/jobs/v1/openapi.yaml"
    )
    return [
        DemoLogin(
            SHARING_EMAIL, "participant sharing a job profile with two job platforms: openings at /lowongan/"
        )
    ]
