"""In Chromium on a phone screen: a participant files a complaint and reads the officer's reply."""

import re

import pytest
from django.contrib.auth.models import Group

from oversight import services
from oversight.models import Complaint
from prakerja.roles import Role
from tests.factories import ApplicantFactory, UserFactory


@pytest.mark.browser
def test_participant_files_a_complaint_and_reads_the_reply(page, live_server):
    applicant = ApplicantFactory()
    applicant.user.set_password("rendang-padang-2026")
    applicant.user.save()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(applicant.user.email)
    page.get_by_label("Kata sandi").fill("rendang-padang-2026")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))

    page.get_by_role("link", name="Ajukan pengaduan").first.click()
    page.wait_for_url(re.compile(r"/pengaduan/baru/$"))
    page.get_by_label("Tentang apa?").select_option(label="Seleksi gelombang")
    page.get_by_label("Judul").fill("Hasil seleksi belum muncul")
    page.get_by_label("Apa yang terjadi?").fill(
        "Gelombang sudah diumumkan tetapi dasbor saya belum menunjukkan hasilnya."
    )
    page.get_by_role("button", name="Kirim pengaduan").click()
    page.wait_for_url(re.compile(r"/pengaduan/ADU-[2-9A-Z]{8}/$"))
    complaint = Complaint.objects.get()
    assert page.locator("[data-ticket]").inner_text() == complaint.ticket
    assert page.locator("[data-status]").inner_text() == "Baru"

    officer = UserFactory(email="petugas@x.id", is_staff=True)
    officer.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    services.complaint_reply(
        complaint_id=complaint.pk,
        officer=officer,
        body="Hasil Anda sudah kami periksa: Anda lolos. Silakan muat ulang dasbor.",
        waiting_for_person=True,
    )
    page.reload()
    assert page.locator("[data-status]").inner_text() == "Menunggu jawaban Anda"
    assert (
        page.locator("[data-message]")
        .last.inner_text()
        .endswith("Hasil Anda sudah kami periksa: Anda lolos. Silakan muat ulang dasbor.")
    )
    page.get_by_label("Pesan Anda").fill("Terima kasih, sudah muncul.")
    page.get_by_role("button", name="Kirim", exact=True).click()
    page.wait_for_url(re.compile(r"/pengaduan/ADU-[2-9A-Z]{8}/$"))
    assert page.locator("[data-status]").inner_text() == "Sedang ditangani"
    assert page.locator("[data-message]").count() == 2


@pytest.mark.browser
def test_a_pasted_link_wraps_on_a_phone_instead_of_widening_the_page(page, live_server):
    applicant = ApplicantFactory()
    link = "https://contoh.example.id/" + "TautanPanjangTanpaSpasi" * 12
    complaint = services.complaint_file(
        reporter=applicant.user,
        category="other",
        title=link,
        description=f"Halaman ini tidak bisa dibuka: {link}",
    )
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_cookie(applicant.user), "url": live_server.url}]
    )
    for path in (f"/pengaduan/{complaint.ticket}/", "/pengaduan/"):
        page.goto(path)
        assert page.get_by_text(complaint.title).first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    # The list's other columns stay on the screen next to the long subject.
    assert page.get_by_text("Baru", exact=True).first.is_visible()
    box = page.get_by_text("Baru", exact=True).first.bounding_box()
    assert box["x"] + box["width"] <= 390


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.mark.browser
def test_the_programme_dashboard_fits_an_officer_laptop_screen(browser, live_server):
    """The per-province table (38 rows, eleven columns) scrolls inside its box, not the whole page."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser(
        email="root@example.id", password="rahasia-panjang-2026"
    )
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="id-ID", base_url=live_server.url
    )
    context.add_cookies([{"name": "sessionid", "value": _session_cookie(admin), "url": live_server.url}])
    page = context.new_page()
    page.goto("/admin/dasbor-program/")
    assert page.locator(".programme-dashboard table").count() > 3
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
