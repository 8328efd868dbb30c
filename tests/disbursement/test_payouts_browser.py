"""Chromium at phone size: a participant links an e-wallet with the password and the SMS code, sees the
schedule, and after an officer approves a batch sees "Dibayar"."""

import datetime
import re

import pytest
from django.utils import timezone

from disbursement.enums import EntitlementKind
from disbursement.gateway import InquiryResult
from disbursement.services import batch_approve, batch_prepare, entitlements_accrue_due, entitlements_schedule
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import FakePartner, finance_officer, use_fake_partner
from tests.factories import ApplicantFactory
from tests.marketplace.factories import sms_code

PASSWORD = "rahasia-panjang-2026"


class Partner(FakePartner):
    def account_inquiry(self, **kwargs):
        return InquiryResult(exists=True, holder_name="KARTIKA LESTARI", nik_match=True)


@pytest.mark.browser
def test_participant_links_an_ewallet_and_sees_the_payment_paid(page, live_server, monkeypatch):
    partner = PaymentPartnerFactory(channels=["ovo", "gopay", "linkaja", "dana"])
    fake = Partner("paid")
    use_fake_partner(monkeypatch, fake)
    monkeypatch.setattr("disbursement.services.accounts.partner_client", lambda **kwargs: fake)
    applicant = ApplicantFactory(
        full_name="Kartika Lestari", phone="+6281234567890", phone_verified_at=timezone.now()
    )
    user = applicant.user
    entitlements_schedule(
        owner=user,
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=600_000,
        count=4,
        first_due_on=timezone.localdate(),
        reference="rating:1",
        idempotency_key=f"training-incentive:{user.pk}",
    )

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))

    page.goto("/rekening/")
    page.wait_for_url(re.compile(r"/reauthenticate/"))
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Konfirmasi").click()
    page.wait_for_url(re.compile(r"/rekening/$"))
    page.get_by_label("OVO").check()
    assert page.get_by_label("Nomor rekening atau nomor e-wallet").input_value() == "081234567890"
    page.get_by_role("button", name="Periksa dan kirim kode").click()
    page.wait_for_url(re.compile(r"/rekening/kode/$"))
    page.locator("input[name=code]").fill(sms_code(phone="+6281234567890"))
    page.get_by_role("button", name="Verifikasi").click()
    page.wait_for_url(re.compile(r"/insentif/$"))
    schedule = page.locator("#incentive-schedule")
    assert schedule.locator("tbody tr").count() == 4
    assert "Terjadwal" in schedule.inner_text()
    assert "••••••••7890" in page.locator("#payout-account").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    entitlements_accrue_due(today=timezone.localdate() + datetime.timedelta(days=0))
    batch = batch_prepare(partner=partner, actor=finance_officer("a@x.test"))
    batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))

    page.reload()
    first_row = page.locator("#incentive-schedule tbody tr").first
    assert "Dibayar" in first_row.inner_text()
    assert [c["account_number"] for c in fake.calls] == ["081234567890"]
