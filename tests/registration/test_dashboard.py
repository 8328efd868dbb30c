"""The applicant dashboard: registration steps, their reasons in Indonesian, and polling."""

import pytest
from django.urls import reverse

from registration.enums import CivilRegistryStatus
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db


def steps(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return {step.key: step for step in response.context["steps"]}, response


def test_new_account_is_asked_for_the_profile(client):
    client.force_login(UserFactory())
    found, response = steps(client)
    assert (found["profile"].status, found["phone"].status, found["nik_check"].status) == (
        "current",
        "locked",
        "locked",
    )
    assert response.context["next_step"].key == "profile"
    html = response.content.decode()
    assert "Isi profil saya" in html
    assert "Didaftarkan di kantor Disnaker?" in html


def test_profile_done_phone_next(client):
    applicant = ApplicantFactory(phone="", phone_verified_at=None, civil_status=CivilRegistryStatus.PENDING)
    client.force_login(applicant.user)
    found, response = steps(client)
    assert (found["profile"].status, found["phone"].status, found["nik_check"].status) == (
        "done",
        "current",
        "waiting",
    )
    assert found["profile"].detail == f"NIK {applicant.masked_nik}, Kota Bekasi"
    assert response.context["polls"] is True
    assert applicant.nik not in response.content.decode()


def test_verified_applicant(client):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    found, response = steps(client)
    assert [found[key].status for key in ("profile", "phone", "nik_check")] == ["done", "done", "done"]
    assert found["nik_check"].detail == "Identitas Anda sesuai dengan data Dukcapil."
    assert found["screening"].status == "done"


def test_mismatch_says_which_fields_and_how_to_fix(client):
    applicant = ApplicantFactory(
        civil_status=CivilRegistryStatus.MISMATCH, civil_mismatch_fields=["full_name", "birth_date"]
    )
    client.force_login(applicant.user)
    found, response = steps(client)
    step = found["nik_check"]
    assert step.status == "failed"
    assert step.detail.startswith(
        "Data nama lengkap dan tanggal lahir Anda tidak sesuai dengan data Dukcapil."
    )
    assert (step.action_url, step.action_label) == (reverse("registration:profile"), "Perbaiki data saya")
    assert response.context["next_step"].key == "nik_check"


def test_not_found_and_unavailable(client):
    applicant = ApplicantFactory(civil_status=CivilRegistryStatus.NOT_FOUND)
    client.force_login(applicant.user)
    found, _response = steps(client)
    assert found["nik_check"].status == "failed"
    assert found["nik_check"].detail.startswith(f"NIK {applicant.masked_nik} tidak ditemukan di Dukcapil.")
    applicant.civil_status = CivilRegistryStatus.UNAVAILABLE
    applicant.save()
    found, _response = steps(client)
    assert (found["nik_check"].status, found["nik_check"].polls) == ("waiting", True)
    assert "Anda tidak perlu melakukan apa pun" in found["nik_check"].detail


def test_excluded_applicant_sees_the_reason(client):
    from registration.models import ScreeningEntry
    from registration.services import screening_apply
    from tests.registration.factories import ScreeningListFactory

    applicant = ApplicantFactory()
    asn = ScreeningListFactory(reason="Terdaftar sebagai ASN")
    ScreeningEntry.objects.create(screening_list=asn, nik=applicant.nik)
    screening_apply()
    client.force_login(applicant.user)
    found, _response = steps(client)
    assert found["screening"].status == "failed"
    assert found["screening"].detail.startswith(
        "Anda tidak dapat mengikuti program: Terdaftar sebagai ASN (sumber: BKN, 01-10-2026)."
    )


def test_priority_panel(client):
    applicant = ApplicantFactory(is_priority=True, priority_source="BPJS Ketenagakerjaan")
    client.force_login(applicant.user)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Anda termasuk dalam daftar prioritas (BPJS Ketenagakerjaan)" in html


def test_timeline_fragment_for_polling(client):
    applicant = ApplicantFactory(civil_status=CivilRegistryStatus.PENDING)
    client.force_login(applicant.user)
    response = client.get(reverse("dashboard"), {"fragment": "timeline"})
    assert response.content.decode().startswith('<div class="dashboard-state"')


def test_dashboard_reads_the_applicant_once(client, django_assert_max_num_queries):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    # The whole dashboard: every app's steps and panels (registration, KYC, waves, catalog).
    with django_assert_max_num_queries(25) as queries:
        client.get(reverse("dashboard"))
    applicant_reads = [q for q in queries.captured_queries if 'FROM "registration_applicant"' in q["sql"]]
    assert len(applicant_reads) == 1


def test_disnaker_staff_dashboard_leads_to_their_pages_not_to_a_profile(client):
    from tests.registration.factories import disnaker_user

    client.force_login(disnaker_user("32"))
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert [panel.template for panel in response.context["panels"]] == [
        "registration/_panel_staff.html",
        "marketplace/_dashboard_catalog.html",
        "oversight/_dashboard_panel_staff.html",
    ]
    assert "Daftarkan warga Jawa Barat yang tidak dapat mendaftar secara daring" in html
    assert f'href="{reverse("registration:staff_home")}">Buka halaman Disnaker</a>' in html
    assert "Lengkapi profil" not in html


def test_other_officers_get_no_disnaker_panel(client):
    from tests.registration.factories import officer

    client.force_login(officer())
    response = client.get(reverse("dashboard"))
    assert [panel.template for panel in response.context["panels"]] == ["marketplace/_dashboard_catalog.html"]


LIFECYCLE = ["account", "email", "profile", "phone", "nik_check", "screening", "kyc", "wave", "card"]


def test_the_timeline_keeps_its_shape_from_the_first_visit(client):
    user = UserFactory()
    client.force_login(user)
    before, response = steps(client)
    keys_before = [step.key for step in response.context["steps"]]
    assert keys_before[: len(LIFECYCLE)] == LIFECYCLE
    assert (before["kyc"].status, before["kyc"].detail) == (
        "locked",
        "Setelah profil lengkap: foto KTP dan swafoto.",
    )
    assert before["screening"].status == "locked"
    applicant = ApplicantFactory(user=user)
    after, response = steps(client)
    assert [step.key for step in response.context["steps"]] == keys_before
    assert (after["profile"].status, after["kyc"].status) == ("done", "current")
    assert (
        f"{sum(1 for s in after.values() if s.status == 'done')} dari {len(keys_before)} langkah selesai"
        in (response.content.decode())
    )
    assert applicant.pk


def test_check_my_nik_checks_again_and_shows_the_result(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    from registration import services
    from registration.civil_registry import CivilResult

    applicant = ApplicantFactory(
        civil_status=CivilRegistryStatus.NOT_FOUND,
        civil_checked_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    client.force_login(applicant.user)
    found, response = steps(client)
    assert (found["nik_check"].action_url, found["nik_check"].action_post) == (
        reverse("registration:civil_retry"),
        True,
    )
    assert f'<form method="post" action="{reverse("registration:civil_retry")}"' in response.content.decode()
    monkeypatch.setattr(
        services.civil_registry, "verify", lambda *args: CivilResult(status=CivilRegistryStatus.VERIFIED)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration:civil_retry"))
    assert response.status_code == 302
    response = client.get(reverse("dashboard"))
    found = {step.key: step for step in response.context["steps"]}
    assert found["nik_check"].status == "done"
    assert "Kami sedang memeriksa NIK Anda lagi ke Dukcapil." in response.content.decode()


def test_check_my_nik_is_limited_to_once_a_minute(client):
    from django.utils import timezone

    applicant = ApplicantFactory(civil_status=CivilRegistryStatus.NOT_FOUND, civil_checked_at=timezone.now())
    client.force_login(applicant.user)
    response = client.post(reverse("registration:civil_retry"), follow=True)
    applicant.refresh_from_db()
    assert applicant.civil_status == CivilRegistryStatus.NOT_FOUND
    assert "Anda dapat memeriksa lagi dalam" in response.content.decode()
