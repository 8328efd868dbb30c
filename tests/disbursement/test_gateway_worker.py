"""SIGKILL a real Celery worker three times while it sends a 600-payout batch to the real simulator.

Afterwards the simulator holds exactly one disbursement per idempotency key, every payout reached it,
every payout ends paid, and the ledger adds up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from disbursement.enums import PayoutStatus
from disbursement.gateway.services import payout_status_check
from disbursement.models import Payout
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve, batch_prepare
from disbursement.tasks import payouts_resend_stuck_task
from tests.conftest import BASE_DIR, WorkerProcess, _database_url_for_test_db, wait_until
from tests.disbursement.gateway_helpers import partner_at, payees
from tests.disbursement.payout_helpers import finance_officer
from tests.disbursement.simulator_process import SimulatorProcess

PAYOUTS = 600
KILLS = 3


def _worker_start(queue: str) -> WorkerProcess:
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DB_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        "PAYOUT_CALLBACK_BASE_URL": "http://127.0.0.1:9",  # callbacks are lost; status inquiry recovers
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "prakerja", "worker", "--queues", queue,
            "--hostname", f"{queue}-{os.getpid()}-{id(env)}@%h", "--pool", "solo", "--without-mingle",
            "--without-gossip", "--without-heartbeat", "--loglevel", "INFO",
        ],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker = WorkerProcess(process, queue)

    def pump():
        for line in process.stdout:
            worker.lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    wait_until(lambda: " ready." in worker.output or process.poll() is not None, timeout=90, message="worker")
    assert process.poll() is None, worker.output
    return worker


@pytest.fixture
def simulator(tmp_path):
    process = SimulatorProcess(tmp_path / "sim.sqlite3", "--settle-seconds", "0.2").start()
    yield process
    process.stop()


@pytest.mark.worker
def test_sigkilled_worker_mid_batch_never_pays_twice_and_loses_nothing(celery_worker, simulator, settings):
    """The fixture's worker is replaced by one this test kills and restarts three times."""
    settings.PAYOUT_CALLBACK_BASE_URL = "http://127.0.0.1:9"
    celery_worker.process.terminate()
    celery_worker.process.wait(timeout=30)
    partner = partner_at(simulator)
    payees(partner, PAYOUTS, amount=50_000)  # Rp30.000.000 in all: one approval is enough
    batch = batch_prepare(partner=partner, actor=finance_officer("maker@x.test"))
    assert batch.payout_count == PAYOUTS

    worker = _worker_start(celery_worker.queue)
    batch_approve(
        batch_id=batch.pk, officer=finance_officer("checker@x.test")
    )  # on commit: the batch is sent
    kills = 0
    try:
        for kills in range(1, KILLS + 1):
            target = kills * PAYOUTS // (KILLS + 2)
            wait_until(
                lambda target=target: simulator.stats()["receipts"] >= target,
                timeout=300,
                interval=0.05,
                message=f"{target} payouts at the simulator\n{worker.output[-3000:]}",
            )
            worker.process.send_signal(signal.SIGKILL)
            worker.process.wait(timeout=30)
            worker = _worker_start(celery_worker.queue)
        # What the dead workers held is recovered by the sweeper (beat in production): payouts stuck in
        # "sending" are sent again with the same key, queued payouts whose task died with a worker are
        # sent. Either may reach the partner a second time: it dedupes.
        settings.PAYOUT_SENDING_STUCK_AFTER_SECONDS = 8

        def in_flight_done():
            payouts_resend_stuck_task()
            return not Payout.objects.filter(
                batch=batch, status__in=[PayoutStatus.QUEUED, PayoutStatus.SENDING]
            ).exists()

        wait_until(
            in_flight_done, timeout=600, interval=10, message=f"every payout sent\n{worker.output[-3000:]}"
        )
    finally:
        worker.process.kill()
        worker.process.wait()

    stats = simulator.stats()
    references = {row["reference"]: row["idempotency_key"] for row in simulator.disbursements()}
    payouts = dict(Payout.objects.filter(batch=batch).values_list("reference", "idempotency_key"))
    assert kills == KILLS
    assert stats["disbursements"] == PAYOUTS
    assert stats["disbursement_keys"] == PAYOUTS
    assert references == payouts  # every payout arrived, once, under its own key
    assert stats["receipts"] >= PAYOUTS
    # Callbacks went nowhere: the status inquiry (what the sweeper runs) finishes every payout.
    for payout_id in Payout.objects.filter(batch=batch).values_list("id", flat=True):
        payout_status_check(payout_id=payout_id)
    assert Payout.objects.filter(batch=batch, status=PayoutStatus.PAID).count() == PAYOUTS
    assert ledger_check().ok
