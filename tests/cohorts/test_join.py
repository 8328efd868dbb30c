import threading

import pytest
from django.db import connection
from django.urls import reverse

from cohorts import services
from cohorts.enums import WaveStatus
from cohorts.models import Application
from tests.cohorts.factories import WaveFactory, programme, verified_applicant
from tests.factories import ApplicantFactory

pytestmark = pytest.mark.django_db


def test_verified_applicant_joins_the_open_wave_once(client):
    wave = WaveFactory()
    applicant = verified_applicant()
    client.force_login(applicant.user)
    page = client.get(reverse("cohorts:join")).content.decode()
    assert "Gabung gelombang ini" in page
    response = client.post(reverse("cohorts:join"), follow=True)
    assert f"Anda sudah bergabung di {wave.name}. Hasilnya kami umumkan" in response.content.decode()
    application = Application.objects.get(applicant=applicant)
    assert (application.wave, application.province_id, application.status) == (wave, "32", "pending")
    from prakerja.models import AuditEntry

    joined = AuditEntry.objects.get(action="cohorts.wave_joined")
    assert (joined.actor, joined.data["wave"]) == (applicant.user, wave.number)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Menunggu gelombang ditutup" in dashboard
    # A second try is refused with a reason, and nothing is duplicated.
    client.post(reverse("cohorts:join"))
    assert Application.objects.filter(applicant=applicant).count() == 1
    # The wave page then says where the applicant stands, not that they "cannot join".
    page = client.get(reverse("cohorts:join")).content.decode()
    assert f"Anda sudah bergabung di {wave.name}." in page and "Menunggu gelombang ditutup" in page
    assert "Anda belum dapat bergabung" not in page


def test_reasons_are_shown_when_not_eligible(client):
    WaveFactory()
    applicant = ApplicantFactory(is_excluded=True, exclusion_reason="ASN")  # and no KYC
    client.force_login(applicant.user)
    html = client.get(reverse("cohorts:join")).content.decode()
    assert 'data-reason="kyc_not_verified"' in html
    assert 'data-reason="excluded"' in html
    assert client.post(reverse("cohorts:join")).status_code == 200
    assert not Application.objects.exists()


def test_no_open_wave():
    applicant = verified_applicant()
    WaveFactory(status=WaveStatus.DRAFT)
    check = services.wave_join_check(applicant=applicant, wave=services.wave_current())
    assert [r.code for r in check.reasons] == ["no_open_wave"]


def test_dashboard_shows_in_selection_then_result(client):
    programme()
    wave = WaveFactory()
    applicant = verified_applicant()
    services.application_create(applicant=applicant, wave=wave)
    services.wave_close(wave=wave)
    client.force_login(applicant.user)
    assert "Dalam proses seleksi" in client.get(reverse("dashboard")).content.decode()


@pytest.mark.postgres
def test_two_concurrent_joins_make_one_application(transactional_db):
    wave = WaveFactory()
    applicant = verified_applicant()
    barrier = threading.Barrier(2)
    outcomes = []

    def join():
        try:
            barrier.wait()
            services.application_create(applicant=applicant, wave=wave)
            outcomes.append("ok")
        except services.CohortError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=join) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Application.objects.filter(applicant=applicant).count() == 1
