"""Chromium at phone size: the shared layout (menu, buttons, error summary)."""

import re

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.browser

ORANGE_500 = "rgb(242, 140, 40)"
WHITE = "rgb(255, 255, 255)"


def _log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Kata sandi").fill("rahasia-panjang-2026")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))


def test_phone_menu_opens_inside_the_screen(page, live_server):
    page.goto("/")
    page.get_by_role("button", name="Menu").click()
    nav = page.locator("#site-nav")
    assert nav.is_visible()
    box = nav.bounding_box()
    assert (box["x"], box["x"] + box["width"]) == (0, 390)
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    nav.get_by_role("link", name="Pelatihan", exact=True).click()
    page.wait_for_url(re.compile(r"/pelatihan/$"))


def test_submit_buttons_take_their_accent_and_secondary_styles(page, live_server):
    _log_in(page, UserFactory(email="ayu@example.id"))
    page.goto("/profil/")
    save = page.get_by_role("button", name="Simpan profil saya")
    assert save.evaluate("button => getComputedStyle(button).backgroundColor") == ORANGE_500
    change_language = page.get_by_role("button", name="Ganti")
    assert change_language.evaluate("button => getComputedStyle(button).backgroundColor") == WHITE


def test_error_summary_link_moves_to_the_first_radio_button(page, live_server):
    _log_in(page, UserFactory(email="eko@example.id"))
    page.goto("/profil/")
    page.get_by_role("button", name="Simpan profil saya").click()
    summary = page.locator("[data-error-summary]")
    summary.get_by_role("link", name=re.compile(r"^Jenis kelamin: ")).click()
    assert page.evaluate("document.activeElement.id") == "id_gender_0"
    assert summary.get_by_role("link", name=re.compile(r"PPPK\)\.:")).count() == 0
