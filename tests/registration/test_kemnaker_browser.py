"""Chromium at phone size: Disnaker sends a submission, Kemnaker returns one person, Disnaker sees it."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from registration.models import OfflineSubmission
from registration.services import applicant_register_offline
from tests.registration.factories import disnaker_user, kemnaker_user, profile_input

pytestmark = pytest.mark.browser


def _sign_in(page, user, base_url: str) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": base_url}]
    )  # fmt: skip


def _no_serious_violations(page) -> None:
    results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page.url}: {serious}"


def test_disnaker_sends_and_follows_a_submission_kemnaker_decides_on_a_phone(page, live_server):
    disnaker = disnaker_user("32", email="disnaker.browser@example.id")
    names = []
    for serial in (1, 2):
        data = profile_input(serial=700 + serial, kk_number=f"3275010101190{serial:03d}",
                             full_name=f"Warga Uji {'Satu' if serial == 1 else 'Dua'}")  # fmt: skip
        applicant_register_offline(staff_user=disnaker, data=data, phone=f"+628135550{serial:04d}")
        names.append(data.full_name)

    _sign_in(page, disnaker, live_server.url)
    page.goto("/staf/")
    assert (
        "baru dapat mengikuti gelombang setelah Kemnaker menyetujuinya"
        in page.get_by_test_id("kemnaker-rule").inner_text()
    )
    page.get_by_role("link", name="Pengajuan ke Kemnaker").first.click()
    page.wait_for_url(re.compile(r"/staf/pengajuan/$"))
    _no_serious_violations(page)
    page.get_by_role("button", name="Kirim 2 orang ke Kemnaker").click()
    page.wait_for_url(re.compile(r"/staf/pengajuan/\d+/$"))
    assert page.get_by_test_id("submission-status").inner_text() == "Menunggu Kemnaker"
    _no_serious_violations(page)

    submission = OfflineSubmission.objects.get()
    _sign_in(page, kemnaker_user(email="kemnaker.browser@example.id"), live_server.url)
    page.goto("/staf/kemnaker/")
    page.get_by_role("link", name=submission.reference).click()
    _no_serious_violations(page)
    page.get_by_label(f"Kembalikan {names[1]} karena").select_option(
        label="Kembalikan: Nomor HP tidak ada atau salah"
    )
    page.get_by_role("button", name="Catat keputusan").click()
    page.wait_for_url(re.compile(r"/staf/kemnaker/$"))
    assert "1 disetujui, 1 dikembalikan" in page.content()

    _sign_in(page, disnaker, live_server.url)
    page.goto(f"/staf/pengajuan/{submission.pk}/")
    assert page.get_by_test_id("submission-status").inner_text() == "Sebagian disetujui"
    assert "Nomor HP tidak ada atau salah" in page.content()
    # At 390 px nothing scrolls the whole page sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
