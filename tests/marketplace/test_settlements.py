"""Redeemed vouchers become what the programme owes the platform (settlement items in disbursement)."""

import pytest

from disbursement.enums import PayoutStatus, ProgrammeAccount
from disbursement.models import LedgerAccount, Payout, SettlementAccount, SettlementItem
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve
from disbursement.services.settlements import settlement_batch_prepare
from marketplace import services
from marketplace.enums import CancelledBy
from marketplace.services.settlements import platform_settlements_sync
from tests.disbursement.payout_helpers import FakePartner, finance_officer, use_fake_partner
from tests.disbursement.settlement_helpers import with_bank
from tests.marketplace.factories import ListingFactory, PlatformFactory, participant_with_balance
from tests.marketplace.test_vouchers import buy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _codes_at_once(settings):
    settings.OTP_RESEND_SECONDS = 0  # several purchases per card in a row


def test_redeeming_records_the_voucher_for_its_platform_once():
    participant = participant_with_balance(balance=1_000_000)
    voucher = buy(participant, ListingFactory(price=400_000))
    unused = buy(participant, ListingFactory(price=250_000, platform=voucher.platform))
    assert not SettlementItem.objects.exists()  # bought, not started: nothing owed yet
    services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
    item = SettlementItem.objects.get()
    assert (item.source_reference, item.amount, item.code) == (
        f"marketplace.voucher:{voucher.pk}",
        400_000,
        voucher.display_code,
    )
    assert item.movement_id == voucher.purchase.movement_id
    assert item.account.reference == f"marketplace.platform:{voucher.platform_id}"
    assert item.account.payable_code == f"platform_payable:{voucher.platform_id}"
    services.voucher_cancel(voucher_id=unused.pk, by=CancelledBy.PARTICIPANT)
    assert platform_settlements_sync() == 0  # nothing missing; the refunded voucher is never owed
    assert SettlementItem.objects.count() == 1


def test_sync_records_vouchers_redeemed_before_settlements_existed():
    participant = participant_with_balance(balance=1_000_000)
    first = buy(participant, ListingFactory(price=400_000))
    second = buy(participant, ListingFactory(price=300_000))
    for voucher in (first, second):
        services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
    SettlementItem.objects.all().delete()
    assert platform_settlements_sync() == 2
    assert platform_settlements_sync() == 0
    assert sorted(SettlementItem.objects.values_list("amount", flat=True)) == [300_000, 400_000]


def test_a_new_platform_gets_a_settlement_account():
    platform = services.platform_save(platform_id=None, actor=None, name="Belajar Uji", slug="belajar-uji")
    account = SettlementAccount.objects.get(reference=f"marketplace.platform:{platform.pk}")
    assert (account.name, account.has_bank_account) == ("Belajar Uji", False)


def test_a_redeemed_voucher_is_paid_to_the_platform_through_a_batch(
    monkeypatch, django_capture_on_commit_callbacks
):
    use_fake_partner(monkeypatch, FakePartner("paid"))
    platform = PlatformFactory()
    participant = participant_with_balance(balance=1_000_000)
    voucher = buy(participant, ListingFactory(price=400_000, platform=platform))
    buy(participant, ListingFactory(price=250_000, platform=platform))  # not redeemed: stays payable
    services.voucher_redeem(code=voucher.code, platform_id=platform.pk)
    account = with_bank(SettlementAccount.objects.get(reference=f"marketplace.platform:{platform.pk}"))
    batch = settlement_batch_prepare(account_id=account.pk, actor=finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    assert Payout.objects.get(batch=batch).status == PayoutStatus.PAID
    assert LedgerAccount.objects.get(code=f"platform_payable:{platform.pk}").balance == 250_000
    assert LedgerAccount.objects.get(code=ProgrammeAccount.PLATFORMS_PAID_OUT).balance == 400_000
    assert ledger_check().ok
