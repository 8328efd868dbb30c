"""Races on PostgreSQL: approvals and preparations at the same moment."""

import threading

import pytest
from django.db import connection

from disbursement.enums import BatchStatus
from disbursement.models import Payout, PayoutBatch, PayoutBatchApproval
from disbursement.selectors import ledger_check
from disbursement.services import BatchError, batch_approve, batch_prepare
from prakerja.models import AuditEntry
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import FakePartner, finance_officer, person_with_due, use_fake_partner

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_officers_approving_at_once_approve_once(monkeypatch):
    use_fake_partner(monkeypatch, FakePartner("accepted"))
    account = person_with_due()
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    b, c = finance_officer("b@x.test"), finance_officer("c@x.test")
    outcomes = _race(
        lambda: batch_approve(batch_id=batch.pk, officer=b),
        lambda: batch_approve(batch_id=batch.pk, officer=c),
    )
    approved = [o for o in outcomes if isinstance(o, PayoutBatch)]
    refused = [o for o in outcomes if isinstance(o, BatchError)]
    assert (len(approved), len(refused)) == (1, 1)
    assert str(refused[0].message) == "Batch ini tidak sedang menunggu persetujuan."
    assert PayoutBatchApproval.objects.count() == 1
    assert AuditEntry.objects.filter(action="disbursement.batch_approve").count() == 1
    assert PayoutBatch.objects.get().status in (BatchStatus.SENDING, BatchStatus.APPROVED, BatchStatus.DONE)
    assert Payout.objects.get().status == "accepted"


def test_preparer_approving_own_batch_is_refused():
    account = person_with_due()
    preparer = finance_officer("a@x.test")
    batch = batch_prepare(partner=account.partner, actor=preparer)
    outcomes = _race(lambda: batch_approve(batch_id=batch.pk, officer=preparer))
    assert isinstance(outcomes[0], BatchError)
    assert PayoutBatch.objects.get().status == BatchStatus.PREPARED


def test_two_batches_racing_for_the_same_entitlements_each_gets_it_once():
    partner = PaymentPartnerFactory(batch_limit=50)
    for _ in range(5):
        person_with_due(partner=partner, count=2)
    outcomes = _race(lambda: batch_prepare(partner=partner), lambda: batch_prepare(partner=partner))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    batches = [o for o in outcomes if o is not None]
    assert sum(b.payout_count for b in batches) == 10
    assert Payout.objects.count() == 10
    assert Payout.objects.values("entitlement_id").distinct().count() == 10
    assert ledger_check().ok
