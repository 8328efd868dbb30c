"""The certificate: a PDF for the participant and a public check of its verification code."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace import services
from marketplace.certificates import name_masked
from marketplace.codes import ALPHABET
from marketplace.enums import PurchaseChannel
from tests.factories import UserFactory
from tests.marketplace.factories import ListingFactory, participant_with_balance, sms_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def completion():
    participant = participant_with_balance(balance=1_000_000, full_name="DEWI ANGGRAINI")
    listing = ListingFactory(price=400_000, training__title="Dasar Pemasaran Digital")
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API
    )
    voucher = services.purchase_confirm(
        purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )
    services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
    return services.completion_record(
        code=voucher.code,
        platform_id=voucher.platform_id,
        certificate_number="CERT-2026-77",
        score=91,
        completed_at=timezone.make_aware(datetime.datetime(2026, 3, 14, 10, 0)),
    )


def test_each_completion_gets_an_unguessable_verification_code(completion):
    code = completion.verification_code
    assert len(code) == 12
    assert set(code) <= set(ALPHABET)


def test_name_is_partly_masked():
    assert name_masked("DEWI  ANGGRAINI PUTRI") == "Dewi A******** P****"
    assert name_masked("RUDI") == "Rudi"


def test_participant_downloads_the_certificate_pdf(client, completion):
    user = completion.participant.applicant.user
    client.force_login(user)
    purchase = completion.voucher.purchase
    page = client.get(reverse("marketplace:voucher", args=[purchase.public_id])).content.decode()
    assert completion.display_verification_code in page
    assert f"/sertifikat/{completion.verification_code}/" in page
    response = client.get(reverse("marketplace:certificate_download", args=[purchase.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sertifikat-prakerja-{completion.verification_code}.pdf"'
    )
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    for text in (
        b"Dewi Anggraini",
        b"Dasar Pemasaran Digital",
        completion.voucher.training.provider.display_name.encode(),
        completion.platform.name.encode(),
        b"14 Maret 2026",
        b"CERT-2026-77",
        b"91",
        completion.display_verification_code.encode(),
    ):
        assert text in pdf, text


def test_another_account_cannot_download_it(client, completion):
    client.force_login(UserFactory())
    purchase = completion.voucher.purchase
    response = client.get(reverse("marketplace:certificate_download", args=[purchase.public_id]))
    assert response.status_code == 404


def test_anyone_checks_the_code_without_logging_in(client, completion):
    display = completion.display_verification_code
    response = client.get(reverse("marketplace:certificate_lookup"), {"kode": display.lower()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sertifikat ini asli" in html
    assert "<dt>Peserta</dt><dd>Dewi A********</dd>" in html
    assert "Dewi Anggraini" not in html
    for text in ("Dasar Pemasaran Digital", completion.platform.name, "14 Maret 2026", ">91<"):
        assert text in html
    assert completion.participant.applicant.nik not in html
    unknown = client.get(reverse("marketplace:certificate_verify", args=["ZZZZZZZZZZZZ"])).content.decode()
    assert "Tidak ada sertifikat dengan kode verifikasi ini." in unknown
    assert "Sertifikat ini asli" not in unknown
