"""Payouts in chunks: the bulk partner endpoints, the set-based transitions and their races.

The bulk path keeps the single path's guarantees: one disbursement per idempotency key at the partner
(also when a chunk is sent twice), each status change once (compare-and-swap), every rupiah through the
ledger under the same keys, and the same messages to the person.
"""

from __future__ import annotations

import threading

import pytest
import yaml
from django.db import connection

from disbursement.enums import EntitlementStatus, PayoutStatus
from disbursement.gateway import protocol
from disbursement.gateway.simulator import PayoutSimulator
from disbursement.models import LedgerMovement, Payout
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve, batch_prepare
from disbursement.services.notices import payout_notify, payouts_notify
from disbursement.services.payouts_bulk import (
    payouts_claim_sending,
    payouts_mark_paid_bulk,
    payouts_send_bulk,
    payouts_status_check_bulk,
)
from prakerja.models import Notification
from tests.conftest import BASE_DIR
from tests.disbursement.gateway_helpers import partner_at, payees
from tests.disbursement.payout_helpers import finance_officer
from tests.disbursement.simulator_process import SimulatorProcess


@pytest.fixture
def simulator(tmp_path):
    process = SimulatorProcess(tmp_path / "sim.sqlite3", "--settle-seconds", "0").start()
    yield process
    process.stop()


def _approved_batch(partner, count, *, closed=0):
    payees(partner, count, amount=50_000, closed=closed)
    batch = batch_prepare(partner=partner, actor=finance_officer("maker@x.test"))
    return batch_approve(batch_id=batch.pk, officer=finance_officer("checker@x.test"), send=False)


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


# --- The simulator's bulk endpoints (in process, no HTTP) -------------------------------------------


@pytest.fixture
def sim(tmp_path):
    simulator = PayoutSimulator(state_path=tmp_path / "sim.sqlite3", port=0)
    yield simulator
    simulator.server.server_close()


def _item(key, reference, account="081200001234", amount=50_000):
    return {"idempotency_key": key, "reference": reference, "channel": "ovo", "account_number": account,
            "amount": amount, "callback_url": ""}  # fmt: skip


def test_simulator_bulk_create_dedupes_each_item_on_its_key(sim):
    faults = sim.state.faults()
    answer = sim.create_bulk(
        key_id="k",
        payload={
            "disbursements": [_item("k1", "R1"), _item("k2", "R2"), _item("k1", "R1"), {"reference": "R3"}]
        },
        faults=faults,
    )
    codes = [result["status_code"] for result in answer["results"]]
    assert codes == [201, 201, 200, 400]
    assert (
        answer["results"][2]["disbursement"]["partner_id"]
        == answer["results"][0]["disbursement"]["partner_id"]
    )
    again = sim.create_bulk(
        key_id="k",
        payload={"disbursements": [_item("k2", "R2"), _item("k1", "R1", amount=1), _item("k9", "R1")]},
        faults=faults,
    )
    # a repeat; a key reused with another body is refused for that item; a new key for a known reference
    # gets the first disbursement, never a second transfer
    assert [result["status_code"] for result in again["results"]] == [200, 422, 200]
    stats = sim.stats()
    assert stats["disbursements"] == 2
    assert stats["disbursement_keys"] == 2
    assert stats["max_receipts_per_key"] == 3  # k1: twice in the first request, once in the second


def test_simulator_bulk_status_lists_unknown_references(sim):
    sim.create_bulk(key_id="k", payload={"disbursements": [_item("k1", "R1")]}, faults=sim.state.faults())
    answer = sim.status_bulk({"references": ["R1", "NOPE", "R1"]})
    assert [row["reference"] for row in answer["disbursements"]] == ["R1"]
    assert answer["not_found"] == ["NOPE"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"disbursements": []}, {"disbursements": [_item("k", "R")] * (protocol.BULK_MAX_ITEMS + 1)}],
)
def test_simulator_bulk_create_refuses_a_malformed_request(sim, payload):
    from disbursement.gateway.simulator import ApiError

    with pytest.raises(ApiError) as caught:
        sim.create_bulk(key_id="k", payload=payload, faults=sim.state.faults())
    assert caught.value.status == 400


def test_the_partner_protocol_stays_a_valid_openapi_document_with_the_bulk_paths():
    from openapi_spec_validator import validate

    spec = yaml.safe_load((BASE_DIR / "disbursement" / "gateway" / "openapi.yaml").read_text())
    validate(spec)
    assert {"/v1/disbursement-batches", "/v1/disbursement-inquiries"} <= set(spec["paths"])


# --- End to end against the simulator process, PostgreSQL ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bulk_send_twice_and_bulk_status_pay_each_payout_once(simulator, settings):
    settings.PAYOUT_CALLBACK_BASE_URL = "http://127.0.0.1:9"  # callbacks are lost: status inquiry finishes
    settings.PAYOUT_SEND_CHUNK = 7  # several bulk requests
    partner = partner_at(simulator)
    batch = _approved_batch(partner, 20, closed=2)
    ids = list(Payout.objects.filter(batch=batch).values_list("id", flat=True))

    first = payouts_send_bulk(payout_ids=ids)
    assert first["accepted"] == 20
    # A redelivered chunk: nothing is queued any more, so without resend nothing is sent; with resend
    # every payout still in flight goes again under its key and the partner dedupes.
    assert payouts_send_bulk(payout_ids=ids)["skipped"] == 20
    payouts_send_bulk(payout_ids=ids, resend=True)  # accepted ones are not SENDING: skipped too
    Payout.objects.filter(pk__in=ids[:5]).update(status=PayoutStatus.SENDING)  # as if the answer was lost
    again = payouts_send_bulk(payout_ids=ids, resend=True)  # the partner's replay: its state by now
    assert sum(again.get(status, 0) for status in ("accepted", "paid", "failed")) == 5

    checked = payouts_status_check_bulk(payout_ids=ids)
    assert checked["changed"] + (again.get("paid", 0) + again.get("failed", 0)) == 20
    assert payouts_status_check_bulk(payout_ids=ids).get("changed", 0) == 0  # final: nothing changes

    stats = simulator.stats()
    assert stats["disbursements"] == stats["disbursement_keys"] == 20
    assert stats["receipts"] == 25
    assert Payout.objects.filter(batch=batch, status=PayoutStatus.PAID).count() == 18
    assert (
        Payout.objects.filter(batch=batch, status=PayoutStatus.FAILED, failure_code="account_closed").count()
        == 2
    )
    assert LedgerMovement.objects.filter(idempotency_key__endswith=":paid").count() == 18
    assert ledger_check().ok
    paid = Payout.objects.filter(batch=batch, status=PayoutStatus.PAID)
    assert {p.entitlement.status for p in paid} == {EntitlementStatus.PAID}
    # one "sent" and one "paid" email per paid payout, whatever was sent twice
    keys = Notification.objects.filter(idempotency_key__startswith="disbursement.payout:").values_list(
        "idempotency_key", flat=True
    )
    assert len(keys) == len(set(keys)) == 20 + 18 + 2  # sent x20, paid x18, failed x2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_chunk_claim_each_payout_once(simulator):
    batch = _approved_batch(partner_at(simulator), 300)
    ids = list(Payout.objects.filter(batch=batch).values_list("id", flat=True))
    outcomes = _race(
        lambda: payouts_claim_sending(payout_ids=ids),
        lambda: payouts_claim_sending(payout_ids=list(reversed(ids))),
    )
    assert all(isinstance(outcome, dict) for outcome in outcomes), outcomes
    assert sorted([*outcomes[0], *outcomes[1]]) == sorted(ids)
    assert set(Payout.objects.filter(batch=batch).values_list("attempts", flat=True)) == {1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_bulk_paid_transitions_move_the_money_once(simulator):
    batch = _approved_batch(partner_at(simulator), 200)
    ids = list(Payout.objects.filter(batch=batch).values_list("id", flat=True))
    payouts_claim_sending(payout_ids=ids)
    half = ids[100:]
    outcomes = _race(
        lambda: payouts_mark_paid_bulk(paid={pk: f"P{pk}" for pk in ids}),
        lambda: payouts_mark_paid_bulk(paid={pk: f"P{pk}" for pk in reversed(half)}),
    )
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == 200
    assert Payout.objects.filter(batch=batch, status=PayoutStatus.PAID).count() == 200
    assert LedgerMovement.objects.filter(idempotency_key__endswith=":paid").count() == 200
    assert ledger_check().ok


# --- Messages ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("event", ["sent", "paid", "failed"])
def test_bulk_messages_are_the_single_path_messages(language, event, monkeypatch):
    from tests.disbursement.payout_helpers import person_with_due
    from tests.factories import ApplicantFactory

    account = person_with_due()
    owner = account.owner
    owner.language = language
    owner.first_name = "Siti & Co"
    owner.save()
    ApplicantFactory(user=owner, phone="081234567890", phone_verified_at="2026-01-01T00:00:00Z")
    batch = batch_prepare(partner=account.partner)
    payout = Payout.objects.get(batch=batch)
    payout_notify(payout_id=payout.pk, event=event)
    single = {n.idempotency_key: (n.subject, n.body, n.recipient) for n in Notification.objects.all()}
    Notification.objects.all().delete()
    assert payouts_notify(payout_ids=[payout.pk], event=event) == 2
    bulk = {n.idempotency_key: (n.subject, n.body, n.recipient) for n in Notification.objects.all()}
    assert len(single) == 2
    assert bulk == single
    assert payouts_notify(payout_ids=[payout.pk], event=event) == 0  # once per payout, round and event


@pytest.mark.django_db
def test_bulk_messages_are_written_here_when_the_broker_is_away(monkeypatch):
    from kombu.exceptions import OperationalError

    from disbursement.services import payouts_bulk
    from disbursement.tasks import payouts_notify_task
    from tests.disbursement.payout_helpers import person_with_due

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    account = person_with_due()
    batch = batch_prepare(partner=account.partner)
    payout = Payout.objects.get(batch=batch)
    monkeypatch.setattr(payouts_notify_task, "delay", broker_down)
    payouts_bulk._notify_bulk(payout_ids=[payout.pk], event="paid")
    keys = set(Notification.objects.values_list("idempotency_key", flat=True))
    assert keys and all(key.startswith(f"disbursement.payout:{payout.pk}:") for key in keys)
