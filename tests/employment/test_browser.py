"""Chromium at phone size: a participant opens "Lowongan" from the menu, sees the openings, stops
sharing; axe-core finds no serious problem on the two pages."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from employment import services
from tests.employment.factories import job_platform, sharing_profile

PASSWORD = "rahasia-panjang-2026"


@pytest.mark.browser
def test_participant_sees_openings_on_a_phone_and_stops_sharing(page):
    karirku = job_platform("karirku", name="Karirku")
    profile = sharing_profile(karirku)
    services.opening_receive(
        platform=karirku,
        public_id=profile.public_id,
        external_id="KRK-1",
        title="Staf Pemasaran Digital",
        company="PT Niaga Maju",
        location="Kota Bekasi",
        url="https://karirku.example.id/lowongan/KRK-1",
    )
    user = profile.participant.applicant.user
    user.set_password(PASSWORD)
    user.save()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Lowongan").click()
    page.wait_for_url(re.compile(r"/lowongan/$"))
    assert page.get_by_role("heading", name="Staf Pemasaran Digital").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe = Axe()
    for path in ("/lowongan/", "/lowongan/profil/"):
        page.goto(path)
        serious = [
            v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], path

    page.goto("/lowongan/")
    page.get_by_role("button", name="Berhenti berbagi dengan semua platform").click()
    page.wait_for_url(re.compile(r"/lowongan/$"))
    assert page.locator("[data-not-shared]").is_visible()
    assert page.locator("[data-opening]").count() == 0
