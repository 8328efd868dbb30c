"""End to end: Chromium uploads the photos, a real Celery worker (Redis, PostgreSQL) verifies them,
and the dashboard shows the result by itself."""

from __future__ import annotations

import re

import pytest

from kyc.enums import CaseStatus
from kyc.models import KycCase
from tests.conftest import wait_until
from tests.factories import ApplicantFactory, UserFactory


@pytest.mark.worker
@pytest.mark.browser
def test_upload_in_the_browser_is_verified_by_the_worker(
    celery_worker, page, live_server, photo, ktp, tmp_path
):
    user = UserFactory(email="sari@example.id")
    applicant = ApplicantFactory(user=user)
    selfie_file = tmp_path / "swafoto.jpg"
    selfie_file.write_bytes(photo("obama", 1))
    ktp_file = tmp_path / "ktp.jpg"
    ktp_file.write_bytes(ktp("obama", 2))

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("sari@example.id")
    page.get_by_label("Kata sandi").fill("rahasia-panjang-2026")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    page.get_by_role("link", name="Unggah foto").first.click()
    page.wait_for_url(re.compile(r"/kyc/$"))

    page.get_by_label("Foto KTP Anda").set_input_files(str(ktp_file))
    page.get_by_label("Swafoto", exact=True).set_input_files(str(selfie_file))
    assert page.locator('img[data-preview-for="selfie"]').is_visible()
    page.get_by_label("Saya setuju foto saya digunakan").check()
    page.get_by_role("button", name="Kirim foto").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    assert "Foto Anda sudah kami terima." in page.content()

    # No reload by hand: the dashboard polls until the worker has decided.
    page.get_by_text("Wajah Anda cocok dengan foto di KTP.").wait_for(timeout=90_000)
    case = wait_until(
        lambda: KycCase.objects.filter(applicant=applicant, status=CaseStatus.VERIFIED).first(),
        message=f"the case to be verified\n{celery_worker.output}",
    )
    submission = case.latest_submission
    assert submission.decided_by_id is None
    assert submission.distance == pytest.approx(0.3519, abs=0.005)
    assert "kyc.submission_verify" in celery_worker.output
