"""Where a person who is stuck is sent: an expired form, a NIK someone else registered."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import ApplicantFactory

pytestmark = pytest.mark.django_db


def test_a_form_sent_with_an_outdated_token_gets_the_portals_own_page():
    applicant = ApplicantFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant.user)
    response = client.post(
        "/pengaduan/baru/",
        {"category": "other", "title": "Judul", "description": "Isi pengaduan yang panjang."},
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "Halaman ini sudah kedaluwarsa" in page
    assert "Isian Anda belum terkirim" in page
    assert 'href="/pengaduan/baru/"' in page  # the same form, afresh
    assert "CSRF" not in page and "DEBUG" not in page
    assert 'class="site-footer"' in page  # the portal's layout, not a bare page


def test_anyone_finds_the_nik_misuse_report_without_an_account(client):
    home = client.get("/").content.decode()
    assert 'href="/pengaduan/nik/">Laporkan penyalahgunaan NIK</a>' in home
    help_page = client.get("/bantuan/").content.decode()
    assert "Ada yang mendaftar dengan NIK saya." in help_page
    assert '<a href="/pengaduan/nik/">laporkan di sini</a>' in help_page
    assert client.get("/pengaduan/nik/").status_code == 200


def test_the_nik_taken_message_names_the_report_link():
    from django.utils import translation

    from registration.services import PROFILE_ERRORS

    with translation.override("id"):
        message = str(PROFILE_ERRORS["nik_taken"])
    assert "Laporkan penyalahgunaan NIK" in message
