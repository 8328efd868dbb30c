"""A settlement to a platform over HTTP at the real partner simulator: paid, and failed (closed account)."""

import time

import pytest

from disbursement.enums import PayoutStatus, ProgrammeAccount, SettlementState
from disbursement.gateway.services import payout_status_check
from disbursement.models import LedgerAccount, Payout, SettlementItem
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve
from disbursement.services.partners import partner_secret_encrypt
from disbursement.services.payouts_bulk import payouts_status_check_bulk
from disbursement.services.settlements import settlement_batch_prepare, settlement_item_state
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import finance_officer
from tests.disbursement.settlement_helpers import platform_payee, redeemed, with_bank
from tests.disbursement.simulator_process import CALLBACK_SECRET, KEY_ID, SECRET, SimulatorProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulator(tmp_path, settings):
    settings.PAYOUT_CALLBACK_BASE_URL = "http://127.0.0.1:9"  # nobody listens: results come by status inquiry
    process = SimulatorProcess(tmp_path / "sim.sqlite3").start()
    yield process
    process.stop()


def _settle(simulator):
    deadline = time.monotonic() + 30
    while simulator.stats()["by_status"].get("accepted"):
        assert time.monotonic() < deadline, "the simulator did not settle"
        time.sleep(0.2)


@pytest.mark.parametrize("bulk", [False, True], ids=["single-inquiry", "bulk-inquiry"])
@pytest.mark.parametrize(("number", "final"), [("8800000001", "paid"), ("8800010000", "failed")])
def test_a_settlement_goes_to_the_simulator_once_and_the_ledger_adds_up(
    simulator, number, final, bulk, django_capture_on_commit_callbacks
):
    partner = PaymentPartnerFactory(base_url=simulator.url, key_id=KEY_ID, kind="bank", channels=["bni"])
    partner.secret_encrypted = partner_secret_encrypt(SECRET)
    partner.callback_secret_encrypted = partner_secret_encrypt(CALLBACK_SECRET)
    partner.save()
    payee = with_bank(platform_payee(), partner=partner, number=number)
    redeemed(payee, 300_000, 450_000)
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("maker@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("checker@x.test"))
    payout = Payout.objects.get(batch=batch)
    assert payout.status == PayoutStatus.ACCEPTED
    _settle(simulator)
    with django_capture_on_commit_callbacks(execute=True):
        if bulk:
            # The sweeper's path: one inquiry for many payouts, paid in one statement.
            payouts_status_check_bulk(payout_ids=[payout.pk])
        else:
            payout_status_check(payout_id=payout.pk)
    payout.refresh_from_db()
    assert payout.status == final
    received = simulator.disbursements()
    assert [(d["reference"], d["amount"], d["account_number"]) for d in received] == [
        (payout.reference, 750_000, number)
    ]
    items = SettlementItem.objects.select_related("payout__batch")
    assert {settlement_item_state(item) for item in items} == {final}
    paid_out = sum(
        LedgerAccount.objects.filter(code=ProgrammeAccount.PLATFORMS_PAID_OUT).values_list(
            "balance", flat=True
        )
    )
    payable = LedgerAccount.objects.get(code=payee.payable_code).balance
    assert (paid_out, payable) == ((750_000, 0) if final == SettlementState.PAID else (0, 750_000))
    assert ledger_check().ok
