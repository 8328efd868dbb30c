"""Chromium at phone size: search, sort by price, buy with the SMS code, see the voucher; the platform
simulator (over HTTP) redeems and completes; the certificate shows on the dashboard."""

import io
import json
import re

import pytest
from django.core.management import call_command

from marketplace.models import Voucher
from tests.marketplace.factories import (
    ListingFactory,
    PlatformFactory,
    credential_for,
    participant_with_balance,
    sms_code,
)

PASSWORD = "rahasia-panjang-2026"


def _phone_width_ok(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_participant_buys_with_the_sms_code_and_sees_the_certificate(page, live_server):
    pintaria = PlatformFactory(slug="pintaria", name="Pintaria")
    key_id, secret = credential_for(pintaria)
    for title, price in (
        ("Desain Grafis dengan Canva", 350_000),
        ("Desain Logo dan Identitas Merek", 150_000),
        ("Desain Interior Rumah", 600_000),
    ):
        ListingFactory(training__title=title, training__price=price, price=price, platform=pintaria)
    ListingFactory(training__title="Budidaya Lele", training__price=100_000, price=100_000)
    participant = participant_with_balance(balance=1_000_000, full_name="Kartika Lestari")
    user = participant.applicant.user
    user.set_password(PASSWORD)
    user.save()

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    assert (
        page.locator('[data-panel="marketplace-my-trainings"]')
        .get_by_text("Anda belum membeli pelatihan.")
        .is_visible()
    )

    # Search and sort by price.
    page.goto("/pelatihan/")
    page.get_by_label("Cari pelatihan").fill("desain")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.wait_for_url("**/pelatihan/?q=desain*")
    page.get_by_label("Urutkan").select_option("price_asc")
    page.wait_for_url("**sort=price_asc*")
    prices = page.locator("#catalog-results li[data-price]").evaluate_all(
        "items => items.map(i => Number(i.dataset.price))"
    )
    assert prices == [150_000, 350_000, 600_000]

    # The cheapest: the training page, then "Beli".
    page.get_by_role("link", name="Desain Logo dan Identitas Merek").click()
    page.get_by_role("link", name="Beli di Pintaria").click()
    page.wait_for_url(re.compile(r"/pelatihan/beli/\d+/$"))
    assert page.locator("[data-price]").inner_text() == "Rp150.000"
    assert page.locator("[data-balance]").inner_text() == "Rp1.000.000"
    assert page.locator("[data-balance-after]").inner_text() == "Rp850.000"
    assert _phone_width_ok(page)
    page.get_by_role("button", name="Kirim kode SMS").click()
    page.wait_for_url(re.compile(r"/pelatihan-saya/[0-9a-f-]+/kode/$"))
    assert page.get_by_role("heading", name="Konfirmasi pembelian Anda").is_visible()
    assert _phone_width_ok(page)

    # A wrong code first, then the code from the SMS.
    code = sms_code(phone=participant.applicant.phone)
    page.get_by_label("Kode 6 digit").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Bayar dengan saldo saya").click()
    assert page.get_by_text("Kode salah. Kesempatan Anda tinggal 4 kali lagi.").first.is_visible()
    page.get_by_label("Kode 6 digit").fill(code)
    page.get_by_role("button", name="Bayar dengan saldo saya").click()
    page.wait_for_url(re.compile(r"/pelatihan-saya/[0-9a-f-]+/$"))
    assert page.get_by_text("Pembayaran berhasil. Ini voucher Anda.").is_visible()
    voucher = Voucher.objects.get()
    assert page.locator("[data-voucher-code]").inner_text() == voucher.display_code
    assert page.locator("[data-voucher-status]").first.inner_text() == "Belum ditukarkan"
    assert _phone_width_ok(page)

    page.goto("/dasbor/")
    panel = page.locator('[data-panel="marketplace-my-trainings"]')
    assert panel.locator("[data-voucher-code]").inner_text() == voucher.display_code
    assert page.locator("[data-balance]").inner_text() == "Rp850.000"

    # The platform, over HTTP with its own credentials: redeem, then completion with a certificate.
    out = io.StringIO()
    call_command(
        "platform_simulator",
        url=live_server.url,
        key_id=key_id,
        secret=secret,
        voucher=voucher.display_code,
        steps="redeem,complete",
        certificate="SERT/PINTARIA/2026/0042",
        score=92,
        stdout=out,
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (summary["status"], summary["certificate_number"]) == ("completed", "SERT/PINTARIA/2026/0042")

    page.reload()
    certificate = page.locator('[data-panel="marketplace-my-trainings"] [data-certificate]')
    assert certificate.inner_text().startswith("Sertifikat SERT/PINTARIA/2026/0042 · nilai 92")
    assert (
        page.locator('[data-step="training_finish"]')
        .get_by_text("Sertifikat SERT/PINTARIA/2026/0042")
        .is_visible()
    )
    assert _phone_width_ok(page)
    page.locator('[data-panel="marketplace-my-trainings"]').get_by_role(
        "link", name="Desain Logo dan Identitas Merek"
    ).click()
    assert page.locator("[data-certificate-number]").inner_text() == "SERT/PINTARIA/2026/0042"
    assert page.locator("[data-redeem-code]").inner_text() == Voucher.objects.get().display_redeem_code


def test_the_simulator_drives_the_whole_flow_over_http(live_server):
    """Purchase with the code from the database (same machine), redeem, complete, against a live server."""
    platform = PlatformFactory(slug="tokopedia", name="Tokopedia")
    key_id, secret = credential_for(platform)
    ListingFactory(platform=platform, price=500_000)
    cheapest = ListingFactory(platform=platform, price=200_000)
    participant = participant_with_balance(balance=1_000_000)
    out = io.StringIO()
    call_command(
        "platform_simulator",
        url=live_server.url,
        key_id=key_id,
        secret=secret,
        card=participant.card_number,
        code_from="db",
        score=77,
        stdout=out,
    )
    lines = out.getvalue().strip().splitlines()
    summary = json.loads(lines[-1])
    voucher = Voucher.objects.get()
    assert summary["voucher"] == voucher.code
    assert summary["status"] == "completed"
    assert voucher.purchase.listing_id == cheapest.pk
    assert voucher.completion.score == 77
    assert lines[0] == "platform: Tokopedia (tokopedia)"


def test_the_simulator_takes_the_credential_and_the_card_from_the_database(live_server):
    """The README's one-liner on the portal's own machine: --platform SLUG --card-of EMAIL."""
    platform = PlatformFactory(slug="pijar", name="Pijar Mahir")
    credential_for(platform)
    ListingFactory(platform=platform, price=150_000)
    participant = participant_with_balance(balance=1_000_000)
    out = io.StringIO()
    call_command(
        "platform_simulator",
        url=live_server.url,
        key_id="",
        secret="",
        platform="pijar",
        card_of=participant.applicant.user.email.upper(),
        code_from="db",
        steps="purchase",
        stdout=out,
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert Voucher.objects.get(code=summary["voucher"]).participant_id == participant.pk


def test_the_simulator_reads_the_code_from_stdin_and_can_cancel(live_server, monkeypatch):
    platform = PlatformFactory(slug="bukalapak", name="Bukalapak")
    key_id, secret = credential_for(platform)
    listing = ListingFactory(platform=platform, price=300_000)
    participant = participant_with_balance(balance=1_000_000)

    class Stdin:
        def readline(self):
            return sms_code(phone=participant.applicant.phone) + "\n"

    monkeypatch.setattr("sys.stdin", Stdin())
    out = io.StringIO()
    call_command(
        "platform_simulator",
        url=live_server.url,
        key_id=key_id,
        secret=secret,
        card=participant.card_number,
        listing=listing.pk,
        steps="purchase,cancel",
        stdout=out,
    )
    assert json.loads(out.getvalue().strip().splitlines()[-1])["status"] == "cancelled"
    participant.balance_account.refresh_from_db()
    assert participant.balance_account.balance == 1_000_000


def test_the_simulator_reports_a_refusal(live_server):
    from django.core.management.base import CommandError

    platform = PlatformFactory(slug="sekolahmu", name="Sekolahmu")
    key_id, secret = credential_for(platform)
    with pytest.raises(CommandError) as failed:
        call_command(
            "platform_simulator",
            url=live_server.url,
            key_id=key_id,
            secret=secret,
            voucher="2222-3333-4444",
            steps="redeem",
            stdout=io.StringIO(),
        )
    assert str(failed.value) == "the portal refused: 404 voucher_not_found: No voucher has this code."
