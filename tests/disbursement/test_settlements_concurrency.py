"""Races on PostgreSQL: two settlement preparations for the same platform's vouchers at the same moment."""

import pytest

from disbursement.models import LedgerAccount, Payout, PayoutBatch, SettlementItem
from disbursement.selectors import ledger_check
from disbursement.services.settlements import settlement_batch_prepare
from tests.disbursement.payout_helpers import finance_officer
from tests.disbursement.settlement_helpers import platform_payee, redeemed, with_bank
from tests.disbursement.test_batches_concurrency import _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("round_", range(2))
def test_two_settlement_preparations_racing_for_the_same_vouchers_each_gets_it_once(round_):
    payee = with_bank(platform_payee())
    amounts = [100_000 + 1_000 * i for i in range(40)]
    redeemed(payee, *amounts)
    a, b = finance_officer("a@x.test"), finance_officer("b@x.test")
    outcomes = _race(
        lambda: settlement_batch_prepare(account_id=payee.pk, actor=a),
        lambda: settlement_batch_prepare(account_id=payee.pk, actor=b),
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    batches = [o for o in outcomes if o is not None]
    assert batches, outcomes
    # Every voucher went to exactly one payout, and each payout pays exactly the vouchers it got.
    assert SettlementItem.objects.filter(payout__isnull=True).count() == 0
    assert sum(b.total_amount for b in batches) == sum(amounts)
    assert PayoutBatch.objects.count() == len(batches)
    for payout in Payout.objects.all():
        items = SettlementItem.objects.filter(payout=payout)
        assert payout.amount == sum(items.values_list("amount", flat=True))
    assert LedgerAccount.objects.get(code=payee.payable_code).balance == 0
    assert LedgerAccount.objects.get(code=payee.partner.clearing_code).balance == sum(amounts)
    assert ledger_check().ok


def test_a_voucher_recorded_twice_at_once_is_recorded_once():
    from disbursement.services.settlements import settlement_items_record

    payee = platform_payee()
    items = redeemed(payee, 300_000)
    SettlementItem.objects.all().delete()
    outcomes = _race(
        lambda: settlement_items_record(account=payee, items=items),
        lambda: settlement_items_record(account=payee, items=items),
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert SettlementItem.objects.count() == 1
