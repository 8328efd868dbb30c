"""The partner client against the real simulator process, and the callback signature check."""

from __future__ import annotations

import datetime
import json
import time

import pytest
import requests

from disbursement.gateway import (
    CallbackInvalid,
    PartnerClient,
    PartnerRejected,
    PartnerUnavailable,
    callback_verify,
    protocol,
)
from tests.disbursement.simulator_process import CALLBACK_SECRET, KEY_ID, SECRET, SimulatorProcess


@pytest.fixture
def simulator(tmp_path):
    process = SimulatorProcess(tmp_path / "sim.sqlite3").start()
    yield process
    process.stop()


def _client(simulator, *, secret=SECRET, timeout=5.0) -> PartnerClient:
    return PartnerClient(base_url=simulator.url, key_id=KEY_ID, secret=secret, timeout=timeout)


def _create(client, key="payout-key-0001", reference="PO-0001", account="081234567890", amount=600000):
    return client.disbursement_create(
        idempotency_key=key,
        reference=reference,
        channel="ovo",
        account_number=account,
        amount=amount,
        description="Insentif Prakerja 1",
        callback_url="",
    )


def test_account_inquiry_answers_from_registered_accounts(simulator):
    simulator.accounts(
        {
            "channel": "ovo",
            "account_number": "081234567890",
            "holder_name": "SITI AMINAH",
            "nik": "3275014101900001",
        }
    )
    client = _client(simulator)

    same = client.account_inquiry(channel="ovo", account_number="081234567890", nik="3275014101900001")
    other_nik = client.account_inquiry(channel="ovo", account_number="081234567890", nik="3275014101900002")
    unknown = client.account_inquiry(channel="dana", account_number="081234567890", nik="3275014101900001")

    assert (same.exists, same.holder_name, same.nik_match) == (True, "SITI AMINAH", True)
    assert (other_nik.exists, other_nik.nik_match) == (True, False)
    assert (unknown.exists, unknown.holder_name, unknown.nik_match) == (False, "", False)


def test_create_is_deduped_on_the_idempotency_key_and_the_reference(simulator):
    client = _client(simulator)

    first = _create(client)
    again = _create(client)
    other_key_same_reference = _create(client, key="payout-key-0002")

    assert first.status == "accepted" and first.partner_id.startswith("SIM")
    assert again.partner_id == first.partner_id
    assert other_key_same_reference.partner_id == first.partner_id
    stats = simulator.stats()
    assert stats["disbursements"] == 1
    assert stats["receipts"] == 3
    assert stats["max_receipts_per_key"] == 2


def test_a_key_reused_for_another_payment_is_refused(simulator):
    client = _client(simulator)
    _create(client)

    with pytest.raises(PartnerRejected) as caught:
        _create(client, reference="PO-0002", amount=50000)

    assert caught.value.code == "idempotency_key_reused"
    assert caught.value.transient is False


def test_status_settles_paid_or_failed_for_a_closed_account(simulator):
    client = _client(simulator)
    _create(client)
    _create(client, key="payout-key-0002", reference="PO-0002", account="0812345670000")

    time.sleep(1.5)  # the simulator settles 0.5 s after accepting
    paid = client.disbursement_status(reference="PO-0001")
    failed = client.disbursement_status(reference="PO-0002")

    assert (paid.status, paid.failure_code, paid.amount) == ("paid", "", 600000)
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    with pytest.raises(PartnerRejected) as caught:
        client.disbursement_status(reference="PO-9999")
    assert caught.value.code == "not_found"


def test_a_wrong_secret_is_refused_as_permanent(simulator):
    with pytest.raises(PartnerRejected) as caught:
        _create(_client(simulator, secret="wrong"))

    assert caught.value.code == "signature_invalid"
    assert simulator.stats()["receipts"] == 0


def test_timeouts_and_500s_are_transient_and_a_retry_pays_once(simulator):
    client = _client(simulator, timeout=1.0)
    simulator.faults(timeout_rate=1.0, timeout_seconds=3.0)
    with pytest.raises(PartnerUnavailable) as timed_out:
        _create(client)
    simulator.faults(timeout_rate=0.0, error_rate=1.0)
    with pytest.raises(PartnerUnavailable) as failed:
        _create(client)
    simulator.faults(error_rate=0.0)

    result = _create(client)

    assert (timed_out.value.code, timed_out.value.transient) == ("timeout", True)
    assert (failed.value.code, failed.value.status) == ("internal_error", 500)
    assert result.reference == "PO-0001"
    stats = simulator.stats()
    assert stats["disbursements"] == 1
    assert stats["receipts"] in (2, 3)  # the 500 came before or after recording the receipt


def test_an_unreachable_partner_is_transient():
    client = PartnerClient(base_url="http://127.0.0.1:9", key_id=KEY_ID, secret=SECRET, timeout=1.0)

    with pytest.raises(PartnerUnavailable) as caught:
        client.disbursement_status(reference="PO-0001")

    assert caught.value.code == "connection_error"


def test_state_survives_a_restart(simulator):
    client = _client(simulator)
    first = _create(client)
    simulator.faults(duplicate_callbacks=2)

    simulator.restart()
    again = _create(_client(simulator))

    assert again.partner_id == first.partner_id
    assert simulator.stats()["disbursements"] == 1
    assert simulator.stats()["faults"]["duplicate_callbacks"] == 2


def test_statement_lists_the_day_and_can_carry_discrepancies(simulator):
    client = _client(simulator)
    for number, account in enumerate(["081200000001", "081200000002", "081200000003", "0812000000000"], 1):
        _create(client, key=f"payout-key-{number:04d}", reference=f"PO-{number:04d}", account=account)
    time.sleep(1.5)
    today = (
        datetime.datetime.now(datetime.UTC).astimezone(datetime.timezone(datetime.timedelta(hours=7))).date()
    )

    clean = client.statement(day=today).decode().splitlines()
    simulator.faults(statement_discrepancies=True)
    skewed = client.statement(day=today).decode().splitlines()

    assert clean[0] == ",".join(protocol.STATEMENT_COLUMNS)
    assert sorted(line.split(",")[0] for line in clean[1:]) == ["PO-0001", "PO-0002", "PO-0003", "PO-0004"]
    rows = {line.split(",")[0]: line.split(",") for line in skewed[1:]}
    assert rows["PO-0001"][4] == "601000"  # amount differs
    assert rows["PO-0004"][5] == "paid"  # failed at the portal, paid on the statement
    assert "PO-0003" not in rows  # missing
    assert f"SIM-UNKNOWN-{today:%Y%m%d}" in rows


def test_faults_are_validated(simulator):
    answer = requests.post(f"{simulator.url}/_sim/faults", json={"error_rate": 2}, timeout=5)
    unknown = requests.post(f"{simulator.url}/_sim/faults", json={"gremlins": True}, timeout=5)

    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_request")
    assert unknown.status_code == 400


def _signed_callback(*, secret=CALLBACK_SECRET, timestamp=None, **changes):
    body = protocol.callback_body(
        event_id="evt_1", reference="PO-0001", partner_id="SIM1", status="paid", amount=600000, **changes
    )
    return body, protocol.callback_headers(key_id=KEY_ID, secret=secret, body=body, timestamp=timestamp)


def test_callback_verify_accepts_the_partners_signature():
    body, headers = _signed_callback()

    payload = callback_verify(secret=CALLBACK_SECRET, headers=headers, body=body)

    assert (payload["reference"], payload["status"], payload["amount"]) == ("PO-0001", "paid", 600000)


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("secret", "signature_invalid"),
        ("body", "signature_invalid"),
        ("stale", "timestamp_invalid"),
        ("missing", "auth_missing"),
    ],
)
def test_callback_verify_refuses_forgeries(tamper, code):
    body, headers = _signed_callback(
        secret="forged" if tamper == "secret" else CALLBACK_SECRET,
        timestamp=int(time.time()) - 3600 if tamper == "stale" else None,
    )
    if tamper == "body":
        body = body.replace(b'"amount":600000', b'"amount":6000000')
    if tamper == "missing":
        headers.pop(protocol.SCHEME.signature_header)

    with pytest.raises(CallbackInvalid) as caught:
        callback_verify(secret=CALLBACK_SECRET, headers=headers, body=body)

    assert caught.value.code == code


def test_callback_verify_refuses_a_signed_body_that_is_not_a_callback():
    body = json.dumps({"reference": "PO-0001", "status": "refunded"}).encode()
    headers = protocol.callback_headers(key_id=KEY_ID, secret=CALLBACK_SECRET, body=body)

    with pytest.raises(CallbackInvalid) as caught:
        callback_verify(secret=CALLBACK_SECRET, headers=headers, body=body)

    assert caught.value.code == "payload_invalid"
