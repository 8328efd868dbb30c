"""Each partner fault of the simulator, end to end: 0 duplicate state changes, 0 lost payouts.

The portal runs as a live server (callbacks reach it over HTTP), payouts are sent by the real send
task (in-process here), the partner is the simulator process with one fault switched on. Afterwards
the partner recovers and the sweepers run, as beat would.
"""

from __future__ import annotations

import collections
import time

import pytest

from disbursement.enums import PayoutStatus
from disbursement.gateway.tasks import payouts_status_sweep_task
from disbursement.models import Payout
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve, batch_prepare
from disbursement.tasks import payouts_resend_stuck_task
from tests.conftest import wait_until
from tests.disbursement.gateway_helpers import partner_at, payees
from tests.disbursement.payout_helpers import finance_officer
from tests.disbursement.simulator_process import SimulatorProcess

PAYOUTS = 10
CLOSED = 2  # accounts ending in 0000: accepted, then failed
FAULTS = {
    "timeouts": {"timeout_rate": 0.5, "timeout_seconds": 2.0},
    "server_errors": {"error_rate": 0.5},
    "slow_answers": {"slow_seconds": 0.3},
    "duplicate_callbacks": {"duplicate_callbacks": 2},
    "late_callbacks": {"callback_delay_seconds": 2.0},
    "out_of_order_callbacks": {"out_of_order_callbacks": True},
    "lost_callbacks": {"lost_callback_rate": 1.0},
    "accepted_then_failed": {"fail_rate": 0.5},
}
CALLBACKS_FINISH = {"slow_answers", "duplicate_callbacks", "late_callbacks", "out_of_order_callbacks"}


@pytest.fixture
def simulator(tmp_path):
    process = SimulatorProcess(tmp_path / "sim.sqlite3", "--settle-seconds", "0.3").start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _eager_like_make_run():
    """As in `make run`: a task that fails in-process (a retry) does not fail its caller."""
    from prakerja.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def _open(batch):
    return Payout.objects.filter(
        batch=batch, status__in=[PayoutStatus.QUEUED, PayoutStatus.SENDING, PayoutStatus.ACCEPTED]
    )


@pytest.mark.postgres
@pytest.mark.parametrize("fault", list(FAULTS))
def test_partner_fault_changes_each_payout_once_and_loses_none(
    fault, simulator, live_server, settings, monkeypatch, transactional_db
):
    settings.PAYOUT_CALLBACK_BASE_URL = live_server.url
    settings.PAYOUT_PARTNER_TIMEOUT_SECONDS = 1.0
    settings.PAYOUT_SENDING_STUCK_AFTER_SECONDS = 0
    settings.PAYOUT_STATUS_SWEEP_AFTER_SECONDS = 0
    changes = []  # every state change a person is told about: (payout, event)
    monkeypatch.setattr(
        "disbursement.services.notices.payout_notify",
        lambda *, payout_id, event: changes.append((payout_id, event)),
    )
    monkeypatch.setattr(  # the bulk path (a batch is sent in chunks) tells people through this one
        "disbursement.services.notices.payouts_notify",
        lambda *, payout_ids, event: changes.extend((payout_id, event) for payout_id in payout_ids),
    )
    partner = partner_at(simulator)
    payees(partner, PAYOUTS, closed=CLOSED)
    batch = batch_prepare(partner=partner, actor=finance_officer("maker@x.test"))
    simulator.faults(**FAULTS[fault])

    batch_approve(batch_id=batch.pk, officer=finance_officer("checker@x.test"))  # sends, in-process

    if fault in CALLBACKS_FINISH:
        wait_until(lambda: not _open(batch).exists(), timeout=90, message="callbacks to finish every payout")
    if fault == "lost_callbacks":
        time.sleep(1.5)
        assert _open(batch).count() == PAYOUTS  # accepted, and nobody called back
    # The partner recovers; beat's sweepers resend what is stuck and ask about what is unfinished.
    simulator.faults(timeout_rate=0.0, error_rate=0.0, slow_seconds=0.0)
    for _round in range(10):
        if not _open(batch).exists():
            break
        payouts_resend_stuck_task()
        time.sleep(0.5)
        payouts_status_sweep_task()
    if fault in CALLBACKS_FINISH:  # let the stale, duplicate and late ones arrive too
        wait_until(
            lambda: (
                (s := simulator.stats())["callbacks_delivered"] + s["callbacks_given_up"]
                >= s["callbacks_queued"]
            ),
            timeout=90,
            message="every callback delivered",
        )

    payouts = {p.reference: p for p in Payout.objects.filter(batch=batch)}
    at_partner = {row["reference"]: row for row in simulator.disbursements()}
    assert not _open(batch).exists()
    assert set(at_partner) == set(payouts)  # none lost, none unknown
    assert len({row["idempotency_key"] for row in at_partner.values()}) == PAYOUTS
    for reference, payout in payouts.items():
        assert payout.status == at_partner[reference]["status"]  # agrees with the partner
    counts = collections.Counter(changes)
    assert max(counts.values()) == 1  # no state change twice
    finals = collections.Counter(event for (_payout, event) in changes if event in ("paid", "failed"))
    assert finals["paid"] + finals["failed"] == PAYOUTS
    assert finals["failed"] >= CLOSED
    assert ledger_check().ok
