"""Chromium at phone size: rate the completed training from the voucher page, then answer the first
evaluation survey; each answer is saved by the page's script and survives a reload."""

import re

import pytest

from disbursement.models import Entitlement
from surveys.defaults import default_surveys_ensure
from surveys.models import Answer, SurveyAssignment
from tests.surveys.factories import completed

PASSWORD = "rahasia-panjang-2026"


def _phone_width_ok(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_rate_then_answer_a_survey_with_autosave(page, live_server):
    default_surveys_ensure()
    completion = completed()
    user = completion.participant.applicant.user
    user.set_password(PASSWORD)
    user.save()

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))

    page.goto(f"/pelatihan-saya/{completion.voucher.purchase.public_id}/")
    page.locator("[data-rate-link]").click()
    page.wait_for_url("**/nilai/")
    assert _phone_width_ok(page)
    page.get_by_label("★★★★", exact=True).check()
    page.get_by_label("Ulasan Anda").fill("Materinya praktis dan mudah diikuti")
    page.get_by_role("button", name="Kirim penilaian saya").click()
    assert page.locator("[data-rating]").is_visible()
    assert Entitlement.objects.filter(owner=user, kind="training_incentive").count() == 4

    page.goto("/dasbor/")
    page.get_by_role("link", name="Isi survei").first.click()
    page.wait_for_url(re.compile(r"/survei/\d+/$"))
    assert page.locator("[data-promise]").is_visible()
    assert _phone_width_ok(page)
    page.get_by_label("Bekerja paruh waktu / sektor informal").check()
    page.locator("[data-save-status]").get_by_text("Tersimpan").wait_for()
    assert page.locator("[data-progress-text]").inner_text() == "1 dari 5 dijawab"
    assignment = SurveyAssignment.objects.get(owner=user, survey__number=1)
    assert list(Answer.objects.filter(assignment=assignment).values_list("option", flat=True)) == ["informal"]

    page.reload()
    assert page.get_by_label("Bekerja paruh waktu / sektor informal").is_checked()
    page.locator("fieldset[data-question]").nth(1).get_by_text("4", exact=True).click()
    page.get_by_label("Sebagian").check()
    page.locator("[data-progress-text]").get_by_text("3 dari 5 dijawab").wait_for()
    page.get_by_role("button", name="Kirim jawaban saya").click()
    page.wait_for_url("**/survei/")
    assert Entitlement.objects.filter(owner=user, kind="survey_incentive", amount=50_000).count() == 1
    assert page.locator('[data-survey="1"][data-state="submitted"]').is_visible()
