"""The whole applicant journey in Chromium on a phone-sized screen."""

import re

import pytest
from django.core import mail

from prakerja import sms
from registration.models import Applicant, CivilRecord
from tests.conftest import wait_until


@pytest.mark.browser
def test_sign_up_profile_phone_and_dashboard_in_chromium(page, live_server):
    CivilRecord.objects.create(
        nik="3275015403950002",
        kk_number="3275010101100001",
        full_name="SITI NURHALIZA",
        birth_place="Bekasi",
        birth_date="1995-03-14",
        gender="F",
    )
    # 1. Account and email.
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("siti@example.id")
    page.get_by_label("Kata sandi", exact=True).fill("rendang-padang-2026")
    page.get_by_label("Kata sandi (lagi)").fill("rendang-padang-2026")
    page.get_by_role("button", name="Daftar").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    link = wait_until(
        lambda: (
            mail.outbox and re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)
        )
    )
    page.goto(link.group(1))
    page.get_by_role("button", name="Konfirmasi").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    page.get_by_role("link", name="Isi profil saya").first.click()

    # 2. Profile, with one mistake first: the KK typed as the NIK.
    page.wait_for_url(re.compile(r"/profil/$"))
    page.get_by_label("NIK (16 digit)").fill("3275 0154 0395 0002")
    assert page.locator(".digit-count").first.inner_text() == "16 dari 16 digit"
    page.get_by_label("Nomor Kartu Keluarga (KK, 16 digit)").fill("3275015403950002")
    page.get_by_label("Nama lengkap sesuai KTP").fill("Siti  Nurhaliza")
    page.get_by_label("Tempat lahir").fill("Bekasi")
    page.get_by_label("Tanggal lahir").fill("1995-03-14")
    page.get_by_label("Perempuan").check()
    page.get_by_label("Alamat tempat tinggal").fill("Jl. Merdeka No. 1, RT 01/RW 02, Bekasi Jaya")
    page.get_by_label("Provinsi tempat tinggal").select_option(label="Jawa Barat")
    page.locator("#id_regency option[value='32.75']").wait_for(state="attached")
    page.get_by_label("Kabupaten/kota").select_option(label="Kota Bekasi")
    page.locator("#id_district option[value='32.75.01']").wait_for(state="attached")
    page.get_by_label("Kecamatan").select_option(label="Bekasi Timur")
    page.get_by_label("Pendidikan terakhir").select_option(label="SMA/SMK/sederajat")
    page.get_by_label("Korban PHK").check()
    for checkbox in page.locator(".declarations input[type=checkbox]").all():
        checkbox.check()
    page.get_by_label("Saya setuju data pribadi saya diproses").check()
    page.get_by_role("button", name="Simpan profil saya").click()
    summary = page.locator("[data-error-summary]")
    assert "Ini NIK Anda. Nomor Kartu Keluarga adalah nomor 16 digit lain" in summary.inner_text()
    # What was typed is still there; only the KK needs fixing.
    assert page.get_by_label("Nama lengkap sesuai KTP").input_value() == "Siti  Nurhaliza"
    assert page.get_by_label("Kecamatan").input_value() == "32.75.01"
    page.get_by_label("Nomor Kartu Keluarga (KK, 16 digit)").fill("3275010101100001")
    page.get_by_role("button", name="Simpan profil saya").click()

    # 3. Phone.
    page.wait_for_url(re.compile(r"/profil/nomor-hp/$"))
    page.get_by_label("Nomor HP").fill("0812 3456 7890")
    page.get_by_role("button", name="Kirim kode").click()
    page.wait_for_url(re.compile(r"/profil/nomor-hp/kode/$"))
    assert "0812••••7890" in page.content()
    message = wait_until(lambda: sms.outbox and sms.outbox[-1])
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    page.get_by_label("Kode 6 digit").fill(code)
    page.get_by_role("button", name="Verifikasi").click()

    # 4. The dashboard with the civil-registry result.
    page.wait_for_url(re.compile(r"/dasbor/$"))
    page.get_by_text("Identitas Anda sesuai dengan data Dukcapil.").wait_for()
    timeline = page.locator(".timeline").inner_text()
    assert "Profil lengkap" in timeline and "Nomor HP terverifikasi" in timeline
    assert "3275••••••••0002" in timeline
    assert "3275015403950002" not in page.content()
    applicant = Applicant.objects.get(user__email="siti@example.id")
    assert (applicant.civil_status, applicant.phone, applicant.full_name) == (
        "verified",
        "+6281234567890",
        "Siti Nurhaliza",
    )
    # Nothing is wider than the phone screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
