import pytest

from disbursement.demo import demo_load
from disbursement.models import Entitlement, Payout, PayoutBatch
from disbursement.selectors import ledger_check

pytestmark = pytest.mark.django_db


def test_demo_shows_each_payout_state_and_is_idempotent():
    demo_load(stdout=None)
    demo_load(stdout=None)
    states = {
        email: list(
            Entitlement.objects.filter(owner__email=email).order_by("number").values_list("status", flat=True)
        )
        for email in (
            "insentif@demo.prakerja.test",
            "gagal@demo.prakerja.test",
            "menunggu@demo.prakerja.test",
        )
    }
    assert states == {
        "insentif@demo.prakerja.test": ["paid", "scheduled", "scheduled", "scheduled"],
        "gagal@demo.prakerja.test": ["failed"],
        "menunggu@demo.prakerja.test": ["in_batch", "scheduled", "scheduled", "scheduled"],
    }
    assert list(PayoutBatch.objects.order_by("id").values_list("status", flat=True)) == [
        "done",
        "done",
        "prepared",
    ]
    assert Payout.objects.get(owner__email="gagal@demo.prakerja.test").failure_code == "account_closed"
    waiting = PayoutBatch.objects.get(status="prepared")
    assert waiting.prepared_by.email == "keuangan@prakerja.test"
    assert ledger_check().ok
