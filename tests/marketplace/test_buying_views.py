"""The participant's pages: Beli, the SMS code, Pelatihan Saya, the voucher, cancelling, the dashboard."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cohorts.enums import ParticipantStatus
from cohorts.models import Participant
from disbursement.models import LedgerAccount, LedgerMovement
from marketplace import services
from marketplace.enums import CancelledBy, PurchaseChannel, PurchaseStatus, VoucherStatus
from marketplace.models import Purchase, Voucher
from tests.factories import ApplicantFactory
from tests.marketplace.factories import (
    AffiliationFactory,
    ListingFactory,
    TrainingSessionFactory,
    participant_with_balance,
    sms_code,
)

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _balance(participant) -> int:
    return LedgerAccount.objects.get(pk=participant.balance_account_id).balance


@pytest.fixture
def participant(client):
    participant = participant_with_balance(balance=1_000_000)
    client.force_login(participant.applicant.user)
    return participant


def _buy_in_portal(client, participant, listing) -> Purchase:
    response = client.post(reverse("marketplace:buy", args=[listing.pk]))
    purchase = Purchase.objects.filter(participant=participant).latest("id")
    assert response.status_code == 302
    assert response["Location"] == reverse("marketplace:purchase_code", args=[purchase.public_id])
    code = sms_code(phone=participant.applicant.phone)
    response = client.post(reverse("marketplace:purchase_code", args=[purchase.public_id]), {"code": code})
    assert response["Location"] == reverse("marketplace:voucher", args=[purchase.public_id])
    return purchase


def test_the_buy_page_shows_price_balance_and_the_disclosure(client, participant):
    listing = ListingFactory(price=350_000, training__title="Barista Profesional")
    AffiliationFactory(provider=listing.training.provider, platform=listing.platform)
    html = _html(client.get(reverse("marketplace:buy", args=[listing.pk])))
    assert "Beli pelatihan" in html
    assert "Barista Profesional" in html
    assert "data-price>Rp350.000<" in html
    assert "data-balance>Rp1.000.000<" in html
    assert "data-balance-after>Rp650.000<" in html
    assert "data-affiliated" in html
    assert "Kirim kode SMS" in html


def test_buying_in_the_portal_shows_the_voucher(client, participant):
    listing = ListingFactory(price=350_000, training__title="Barista Profesional")
    purchase = _buy_in_portal(client, participant, listing)
    voucher = Voucher.objects.get(purchase=purchase)
    response = client.get(reverse("marketplace:voucher", args=[purchase.public_id]))
    html = _html(response)
    assert "Pembayaran berhasil. Ini voucher Anda." in html
    assert f"data-voucher-code>{voucher.display_code}<" in html
    assert 'data-voucher-status="issued"' in html
    assert _balance(participant) == 650_000
    assert purchase.channel == PurchaseChannel.PORTAL


def test_a_double_submitted_code_shows_the_same_voucher(client, participant):
    listing = ListingFactory(price=300_000)
    purchase = _buy_in_portal(client, participant, listing)
    again = client.post(reverse("marketplace:purchase_code", args=[purchase.public_id]), {"code": "123456"})
    assert again["Location"] == reverse("marketplace:voucher", args=[purchase.public_id])
    assert Voucher.objects.count() == 1
    assert LedgerMovement.objects.filter(kind="purchase").count() == 1
    # Refreshing the start page's POST reuses the waiting purchase; after payment it is a new purchase.
    assert _balance(participant) == 700_000


def test_a_double_submitted_buy_button_sends_one_code(client, participant):
    listing = ListingFactory()
    first = client.post(reverse("marketplace:buy", args=[listing.pk]))
    second = client.post(reverse("marketplace:buy", args=[listing.pk]), follow=True)
    assert first["Location"] == second.redirect_chain[0][0]
    assert "Kami sudah mengirim kode untuk pembelian ini. Kode itu masih berlaku." in _html(second)
    assert Purchase.objects.count() == 1


def test_a_wrong_code_shows_an_indonesian_error_and_pays_nothing(client, participant):
    listing = ListingFactory()
    client.post(reverse("marketplace:buy", args=[listing.pk]))
    purchase = Purchase.objects.get()
    right = sms_code(phone=participant.applicant.phone)
    wrong = "000000" if right != "000000" else "111111"
    response = client.post(reverse("marketplace:purchase_code", args=[purchase.public_id]), {"code": wrong})
    assert response.status_code == 200
    html = _html(response)
    assert "Kode salah. Kesempatan Anda tinggal 4 kali lagi." in html
    assert "Konfirmasi pembelian Anda" in html
    assert _balance(participant) == 1_000_000


def test_the_code_page_says_where_the_code_went(client, participant):
    client.post(reverse("marketplace:buy", args=[ListingFactory().pk]))
    purchase = Purchase.objects.get()
    html = _html(client.get(reverse("marketplace:purchase_code", args=[purchase.public_id])))
    phone = participant.applicant.phone
    assert f"0{phone[3:6]}" in html and phone[-4:] in html
    assert phone not in html


def test_a_failed_purchase_goes_back_to_the_offer_with_the_reason(client, participant):
    listing = ListingFactory(price=300_000, training__price=400_000)
    client.post(reverse("marketplace:buy", args=[listing.pk]))
    purchase = Purchase.objects.get()
    services.listing_update(listing_id=listing.pk, price=350_000)
    response = client.post(
        reverse("marketplace:purchase_code", args=[purchase.public_id]),
        {"code": sms_code(phone=participant.applicant.phone)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("marketplace:buy", args=[listing.pk])
    assert "berubah dari Rp300.000 menjadi Rp350.000" in _html(response)
    assert "data-price>Rp350.000<" in _html(response)


def test_who_cannot_buy_sees_why_and_nothing_is_started(client):
    listing = ListingFactory(price=300_000)
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    response = client.get(reverse("marketplace:buy", args=[listing.pk]))
    assert "Hanya peserta Prakerja yang dapat membeli pelatihan dengan saldo pelatihan." in _html(response)
    client.post(reverse("marketplace:buy", args=[listing.pk]))
    poor = participant_with_balance(balance=100_000)
    client.force_login(poor.applicant.user)
    response = client.post(reverse("marketplace:buy", args=[listing.pk]))
    assert "Saldo Anda Rp100.000 tidak cukup untuk pelatihan ini (Rp300.000)." in _html(response)
    revoked = participant_with_balance()
    Participant.objects.filter(pk=revoked.pk).update(
        status=ParticipantStatus.REVOKED, revoke_reason="Tidak membeli pelatihan tepat waktu"
    )
    client.force_login(revoked.applicant.user)
    html = _html(client.get(reverse("marketplace:buy", args=[listing.pk])))
    assert "Kartu Prakerja Anda sudah tidak aktif: Tidak membeli pelatihan tepat waktu" in html
    assert "Kirim kode SMS" not in html
    assert not Purchase.objects.exists()


def test_buying_needs_a_login_and_hidden_offers_are_not_found(client):
    listing = ListingFactory()
    response = client.get(reverse("marketplace:buy", args=[listing.pk]))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    hidden = ListingFactory(is_available=False)
    participant = participant_with_balance()
    client.force_login(participant.applicant.user)
    assert client.get(reverse("marketplace:buy", args=[hidden.pk])).status_code == 404


def test_a_webinar_asks_for_the_session(client, participant):
    sooner = TrainingSessionFactory(starts_at=timezone.now() + datetime.timedelta(days=2))
    later = TrainingSessionFactory(
        training=sooner.training, starts_at=timezone.now() + datetime.timedelta(days=9)
    )
    listing = ListingFactory(training=sooner.training)
    html = _html(client.get(reverse("marketplace:buy", args=[listing.pk])))
    assert "Pilih sesi webinar" in html
    assert f'value="{sooner.pk}"' in html and f'value="{later.pk}"' in html
    client.post(reverse("marketplace:buy", args=[listing.pk]), {"session": later.pk})
    assert Purchase.objects.get().session_id == later.pk


def test_someone_elses_purchase_is_not_found(client, participant):
    listing = ListingFactory()
    purchase = _buy_in_portal(client, participant, listing)
    intruder = participant_with_balance()
    client.force_login(intruder.applicant.user)
    for name in ("voucher", "purchase_code", "voucher_cancel"):
        assert client.get(reverse(f"marketplace:{name}", args=[purchase.public_id])).status_code == 404
    assert (
        client.post(
            reverse("marketplace:voucher_cancel", args=[purchase.public_id]), {"confirm": "on"}
        ).status_code
        == 404
    )
    assert client.post(reverse("marketplace:purchase_resend", args=[purchase.public_id])).status_code == 404
    html = _html(client.get(reverse("marketplace:my_trainings")))
    assert Voucher.objects.get().display_code not in html
    assert Voucher.objects.get().status == VoucherStatus.ISSUED
    client.logout()
    response = client.get(reverse("marketplace:voucher", args=[purchase.public_id]))
    assert response.status_code == 302


def test_cancelling_in_the_portal_refunds_the_balance(client, participant):
    listing = ListingFactory(price=300_000)
    purchase = _buy_in_portal(client, participant, listing)
    url = reverse("marketplace:voucher_cancel", args=[purchase.public_id])
    assert "Batalkan voucher" in _html(client.get(url))
    unconfirmed = client.post(url, {})
    assert "Centang kotak untuk memastikan Anda ingin membatalkan." in _html(unconfirmed)
    assert _balance(participant) == 700_000
    response = client.post(url, {"confirm": "on"}, follow=True)
    assert "Voucher dibatalkan. Rp300.000 sudah kembali ke saldo pelatihan Anda." in _html(response)
    assert _balance(participant) == 1_000_000
    voucher = Voucher.objects.get()
    assert (voucher.status, voucher.cancelled_by) == (VoucherStatus.CANCELLED, CancelledBy.PARTICIPANT)
    again = client.post(url, {"confirm": "on"}, follow=True)
    assert "Hanya voucher yang belum ditukarkan yang dapat dibatalkan." in _html(again)
    assert _balance(participant) == 1_000_000


def test_the_voucher_page_shows_the_redeem_code_and_the_certificate(client, participant):
    listing = ListingFactory()
    purchase = _buy_in_portal(client, participant, listing)
    voucher = Voucher.objects.get()
    services.voucher_redeem(code=voucher.code, platform_id=listing.platform_id)
    services.completion_record(
        code=voucher.code, platform_id=listing.platform_id, certificate_number="SERT/2026/0042", score=87
    )
    html = _html(client.get(reverse("marketplace:voucher", args=[purchase.public_id])))
    assert "data-redeem-code>" in html
    assert "data-certificate-number>SERT/2026/0042<" in html
    assert "pelatihan pertama yang Anda selesaikan" in html
    assert "Batalkan voucher ini" not in html


def test_dashboard_shows_my_trainings_and_the_certificate(client, participant):
    html = _html(client.get(reverse("dashboard")))
    assert 'data-panel="marketplace-my-trainings"' in html
    assert "Anda belum membeli pelatihan." in html
    assert 'data-step="training_buy"' in html
    listing = ListingFactory(training__title="Menjahit Busana Wanita")
    _buy_in_portal(client, participant, listing)
    voucher = Voucher.objects.get()
    html = _html(client.get(reverse("dashboard")))
    assert "Menjahit Busana Wanita" in html
    assert f"data-voucher-code>{voucher.display_code}<" in html
    assert "Belum ditukarkan" in html
    services.voucher_redeem(code=voucher.code, platform_id=listing.platform_id)
    services.completion_record(
        code=voucher.code, platform_id=listing.platform_id, certificate_number="SRT-77", score=90
    )
    html = _html(client.get(reverse("dashboard")))
    assert "Sertifikat SRT-77 · nilai 90" in html
    assert "dihitung untuk insentif Anda" in html


def test_the_training_page_has_a_buy_button_per_offer(client):
    listing = ListingFactory()
    ListingFactory(training=listing.training)
    html = _html(client.get(reverse("marketplace:training_detail", args=[listing.training_id])))
    assert html.count("data-buy") == 2
    assert reverse("marketplace:buy", args=[listing.pk]) in html


def _paid(participant, count):
    for _ in range(count):
        listing = ListingFactory(price=10_000)
        purchase = Purchase.objects.create(
            participant=participant,
            listing=listing,
            platform=listing.platform,
            price=listing.price,
            channel=PurchaseChannel.PORTAL,
            status=PurchaseStatus.AWAITING_CODE,
        )
        from marketplace.services.purchases import _pay

        _pay(purchase=purchase, user=participant.applicant.user, phone=participant.applicant.phone)


@pytest.mark.parametrize("page", ["marketplace:my_trainings", "dashboard"])
def test_my_trainings_query_count_is_constant(
    client, participant, page, django_assert_num_queries, django_assert_max_num_queries
):
    _paid(participant, 1)
    client.get(reverse(page))  # warm caches
    with django_assert_max_num_queries(60) as one:
        assert client.get(reverse(page)).status_code == 200
    _paid(participant, 2)
    first = Voucher.objects.order_by("id").first()
    services.voucher_redeem(code=first.code, platform_id=first.platform_id)
    services.completion_record(
        code=first.code, platform_id=first.platform_id, certificate_number="Q-1", score=80
    )
    with django_assert_num_queries(len(one.captured_queries)):
        html = _html(client.get(reverse(page)))
    assert html.count("data-purchase=") == 3
