"""Partner callbacks are hints: checked, deduplicated, confirmed by status inquiry at the real simulator."""

from __future__ import annotations

import time

import pytest

from disbursement.enums import PayoutStatus
from disbursement.gateway import protocol
from disbursement.gateway.tasks import payouts_status_sweep_task
from disbursement.models import Payout
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve, batch_prepare
from disbursement.services.partners import partner_secret_encrypt
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import finance_officer, person_with_due
from tests.disbursement.simulator_process import CALLBACK_SECRET, KEY_ID, SECRET, SimulatorProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulator(tmp_path, settings):
    settings.PAYOUT_CALLBACK_BASE_URL = (
        "http://127.0.0.1:9"  # nobody listens: callbacks here are sent by hand
    )
    process = SimulatorProcess(tmp_path / "sim.sqlite3").start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _no_notices(monkeypatch):
    # The person's SMS/email about each payout is payouts-core's subject (tests/disbursement/test_payouts_*).
    monkeypatch.setattr("disbursement.services.notices.payout_notify", lambda **kwargs: None)


@pytest.fixture
def partner(simulator):
    partner = PaymentPartnerFactory(base_url=simulator.url, key_id=KEY_ID)
    partner.secret_encrypted = partner_secret_encrypt(SECRET)
    partner.callback_secret_encrypted = partner_secret_encrypt(CALLBACK_SECRET)
    partner.save()
    return partner


def _sent_payout(partner, capture) -> Payout:
    person_with_due(partner=partner, account_kwargs={"account_number": "081234567891"})
    batch = batch_prepare(partner=partner, actor=finance_officer("maker@x.test"))
    with capture(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("checker@x.test"))
    return Payout.objects.get(batch=batch)


def _post(
    client, partner, *, status="paid", reference=None, event_id="evt_1", secret=CALLBACK_SECRET, headers=None
):
    payout = Payout.objects.filter(partner=partner).first()
    body = protocol.callback_body(
        event_id=event_id,
        reference=reference or payout.reference,
        partner_id="SIM1",
        status=status,
        amount=600000,
    )
    headers = headers or protocol.callback_headers(key_id=KEY_ID, secret=secret, body=body)
    response = client.post(
        f"/api/payout/v1/callbacks/{partner.pk}/",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )
    return response, body, headers


def _settled(simulator):
    deadline = time.monotonic() + 30
    while simulator.stats()["by_status"].get("accepted"):
        assert time.monotonic() < deadline, "the simulator did not settle"
        time.sleep(0.2)


def test_a_signed_callback_is_confirmed_by_status_inquiry(
    client, simulator, partner, django_capture_on_commit_callbacks
):
    payout = _sent_payout(partner, django_capture_on_commit_callbacks)
    assert payout.status == PayoutStatus.ACCEPTED
    _settled(simulator)

    with django_capture_on_commit_callbacks(execute=True):
        response, _body, _headers = _post(client, partner)

    payout.refresh_from_db()
    assert (response.status_code, response.json()) == (200, {"result": "checking"})
    assert payout.status == PayoutStatus.PAID
    assert payout.entitlement.status == "paid"
    assert ledger_check().ok


def test_a_callback_that_claims_more_than_the_partner_knows_changes_nothing(
    client, simulator, partner, django_capture_on_commit_callbacks
):
    simulator.faults(settle_seconds=3600)  # the partner still says "accepted"
    payout = _sent_payout(partner, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response, _body, _headers = _post(client, partner, status="paid")

    payout.refresh_from_db()
    assert response.json() == {"result": "checking"}
    assert payout.status == PayoutStatus.ACCEPTED


def test_forged_callbacks_are_refused(client, simulator, partner, django_capture_on_commit_callbacks):
    payout = _sent_payout(partner, django_capture_on_commit_callbacks)
    _settled(simulator)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        forged, _body, _headers = _post(client, partner, secret="guessed")
        stale_headers = protocol.callback_headers(
            key_id=KEY_ID, secret=CALLBACK_SECRET, body=b"{}", timestamp=int(time.time()) - 3600
        )
        stale, _body, _headers = _post(client, partner, headers=stale_headers)
        unsigned = client.post(
            f"/api/payout/v1/callbacks/{partner.pk}/", data=b"{}", content_type="application/json"
        )

    payout.refresh_from_db()
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "signature_invalid")
    assert (stale.status_code, stale.json()["error"]["code"]) == (401, "timestamp_invalid")
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "key_unknown")
    assert callbacks == []
    assert payout.status == PayoutStatus.ACCEPTED


def test_replayed_and_duplicate_callbacks_change_nothing_more(
    client, simulator, partner, django_capture_on_commit_callbacks
):
    payout = _sent_payout(partner, django_capture_on_commit_callbacks)
    _settled(simulator)

    with django_capture_on_commit_callbacks(execute=True):
        first, body, headers = _post(client, partner)
    with django_capture_on_commit_callbacks(execute=True) as later:
        replayed = client.post(
            f"/api/payout/v1/callbacks/{partner.pk}/",
            data=body,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
        duplicate, _body, _headers = _post(client, partner)  # same event, delivered again
        stale_order, _body, _headers = _post(client, partner, status="accepted", event_id="evt_0")

    payout.refresh_from_db()
    assert first.json() == {"result": "checking"}
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (401, "nonce_reused")
    assert duplicate.json() == {"result": "duplicate"}
    assert stale_order.json() == {"result": "no_change"}
    assert later == []
    assert payout.status == PayoutStatus.PAID
    assert ledger_check().ok


def test_a_callback_for_an_unknown_reference_is_answered_and_ignored(
    client, simulator, partner, django_capture_on_commit_callbacks
):
    _sent_payout(partner, django_capture_on_commit_callbacks)

    response, _body, _headers = _post(client, partner, reference="PO-NOT-OURS")

    assert response.json() == {"result": "unknown_reference"}


def test_the_sweeper_recovers_a_lost_callback(
    settings, simulator, partner, django_capture_on_commit_callbacks
):
    settings.PAYOUT_STATUS_SWEEP_AFTER_SECONDS = 0
    payout = _sent_payout(partner, django_capture_on_commit_callbacks)
    _settled(simulator)

    assert payouts_status_sweep_task() == 1
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert payouts_status_sweep_task() == 0


def test_the_sweeper_applies_accepted_then_failed(
    settings, simulator, partner, django_capture_on_commit_callbacks
):
    settings.PAYOUT_STATUS_SWEEP_AFTER_SECONDS = 0
    person_with_due(partner=partner, account_kwargs={"account_number": "081299990000"})
    batch = batch_prepare(partner=partner, actor=finance_officer("maker@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("checker@x.test"))
    payout = Payout.objects.get(batch=batch)
    assert payout.status == PayoutStatus.ACCEPTED
    _settled(simulator)

    payouts_status_sweep_task()

    payout.refresh_from_db()
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "account_closed")
    assert payout.entitlement.status_reason == "account_closed"
    assert ledger_check().ok
