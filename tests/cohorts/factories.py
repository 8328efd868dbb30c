from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from cohorts.enums import WaveStatus
from cohorts.models import Programme, Wave
from tests.factories import ApplicantFactory


class WaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wave

    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"Gelombang {o.number}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=3))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=3))
    total_quota = 100
    status = WaveStatus.OPEN


def programme(balance: int = 1_000_000, end_date: datetime.date | None = None) -> Programme:
    programme, _ = Programme.objects.update_or_create(
        pk=1, defaults={"balance_amount": balance, "end_date": end_date or datetime.date(2030, 12, 31)}
    )
    return programme


def verified_applicant(**kwargs):
    """An applicant who may join a wave: NIK and KYC verified."""
    from kyc.models import KycCase

    applicant = ApplicantFactory(**kwargs)
    KycCase.objects.create(applicant=applicant, status="verified")
    return applicant


def pool(wave, *, district_code: str, count: int, priority: int = 0, **kwargs):
    """``count`` verified applicants from one district who joined ``wave``; the first ``priority`` are priority."""
    from cohorts.models import Application

    applicants = []
    for _i in range(count):
        applicant = verified_applicant(district_code=district_code, **kwargs)
        applicants.append(applicant)
    if priority:
        put_on_list(applicants[:priority], kind="priority", category="laid_off")
        for applicant in applicants[:priority]:
            applicant.refresh_from_db()
    for applicant in applicants:
        Application.objects.create(
            wave=wave,
            applicant=applicant,
            province_id=applicant.province_id,
            kk_number=applicant.kk_number,
            is_priority=applicant.is_priority,
        )
    return applicants


def put_on_list(applicants, *, kind: str, category: str = "other", reason: str = "Daftar uji"):
    """Put applicants on an active screening list and apply the lists, as officers would."""
    import datetime as dt

    from registration.models import ScreeningEntry, ScreeningList
    from registration.services import screening_apply

    screening_list = ScreeningList.objects.create(
        kind=kind,
        category=category,
        name=f"{kind} {category}",
        source="Uji",
        reason=reason,
        reference_date=dt.date(2026, 1, 1),
        current_batch=1,
    )
    ScreeningEntry.objects.bulk_create(
        [ScreeningEntry(screening_list=screening_list, batch=1, nik=a.nik) for a in applicants]
    )
    screening_apply()
    return screening_list
