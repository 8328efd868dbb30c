import io

import pytest
from django.core.management import call_command

from registration.models import Applicant, CivilRecord, ScreeningEntry

pytestmark = pytest.mark.django_db


def state():
    return (
        sorted(
            Applicant.objects.values_list(
                "user__email", "civil_status", "is_excluded", "is_priority", "channel"
            )
        ),
        CivilRecord.objects.count(),
        ScreeningEntry.objects.count(),
    )


def test_demo_applicants_at_each_step_and_idempotent():
    call_command("load_demo", stdout=io.StringIO())
    first = state()
    call_command("load_demo", stdout=io.StringIO())
    assert state() == first
    rows = {email: rest for email, *rest in first[0]}
    assert rows["peserta@prakerja.test"] == ["verified", False, False, "online"]
    assert rows["nik.tidaksesuai@demo.prakerja.test"] == ["mismatch", False, False, "online"]
    assert rows["dikecualikan@demo.prakerja.test"] == ["verified", True, False, "online"]
    assert rows["prioritas@demo.prakerja.test"] == ["verified", False, True, "online"]
    assert "profil.belum@demo.prakerja.test" not in rows
    assert Applicant.objects.get(user__email="hp.belum@demo.prakerja.test").phone_verified_at is None
    # Nur Aini, plus the three others of the Jawa Barat submission waiting for Kemnaker.
    offline = Applicant.objects.filter(channel="offline")
    assert offline.count() == 4
    assert set(offline.values_list("kemnaker_status", "kemnaker_hold")) == {("waiting", True)}
    # Serials 0001-0999 are registration's; other apps' demos (KYC 5001-5999, waves 2001-2999, ...)
    # use their own domains (<app>.demo.prakerja.test).
    ours = Applicant.objects.exclude(user__email__regex=r"@[a-z]+\.demo\.prakerja\.test$")
    assert all(nik[-4:] < "1000" for nik in ours.values_list("nik", flat=True))
