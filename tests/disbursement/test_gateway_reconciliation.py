"""Reconciling a partner statement with every kind of mismatch, from the real simulator's statement."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disbursement.enums import MismatchKind, PayoutStatus
from disbursement.gateway.reconciliation import (
    ReconciliationError,
    statement_mismatch_resolve,
    statement_reconcile,
)
from disbursement.gateway.services import payout_status_check
from disbursement.models import PartnerStatement, Payout, StatementMismatch
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve, batch_prepare
from disbursement.services.partners import partner_client
from prakerja.models import AuditEntry
from tests.disbursement.gateway_helpers import partner_at, payees
from tests.disbursement.payout_helpers import finance_officer
from tests.disbursement.simulator_process import SimulatorProcess
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_notices(monkeypatch, settings):
    settings.PAYOUT_CALLBACK_BASE_URL = "http://127.0.0.1:9"
    monkeypatch.setattr("disbursement.services.notices.payout_notify", lambda **kwargs: None)


@pytest.fixture
def simulator(tmp_path):
    process = SimulatorProcess(tmp_path / "sim.sqlite3", "--settle-seconds", "0.1").start()
    yield process
    process.stop()


@pytest.fixture
def paid_day(simulator, django_capture_on_commit_callbacks):
    """Four payouts sent today: three paid, one (a closed account) failed."""
    partner = partner_at(simulator)
    payees(partner, 4, closed=1)
    batch = batch_prepare(partner=partner, actor=finance_officer("maker@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("checker@x.test"))
    time.sleep(1.0)
    for payout_id in Payout.objects.values_list("id", flat=True):
        payout_status_check(payout_id=payout_id)
    assert sorted(Payout.objects.values_list("status", flat=True)) == ["failed", "paid", "paid", "paid"]
    return partner


def _statement(simulator, partner, *, discrepancies: bool) -> bytes:
    simulator.faults(statement_discrepancies=discrepancies)
    return partner_client(partner=partner).statement(day=timezone.localdate())


def test_a_clean_statement_matches_every_row(simulator, paid_day):
    officer = finance_officer("recon@x.test")

    statement = statement_reconcile(
        partner=paid_day, day=timezone.localdate(), content=_statement(simulator, paid_day, discrepancies=False),
        officer=officer,
    )  # fmt: skip

    assert (statement.row_count, statement.matched_count, statement.mismatch_count) == (4, 4, 0)
    assert AuditEntry.objects.filter(action="disbursement.statement_reconcile").count() == 1


def test_every_kind_of_mismatch_is_listed_and_resolved_through_services(simulator, paid_day):
    officer = finance_officer("recon@x.test")
    content = _statement(simulator, paid_day, discrepancies=True)

    statement = statement_reconcile(
        partner=paid_day, day=timezone.localdate(), content=content, officer=officer
    )
    again = statement_reconcile(partner=paid_day, day=timezone.localdate(), content=content, officer=officer)

    assert again.pk == statement.pk
    kinds = sorted(statement.mismatches.values_list("kind", flat=True))
    assert kinds == sorted(
        [
            MismatchKind.AMOUNT_DIFFERS,
            MismatchKind.PAID_THERE_FAILED_HERE,
            MismatchKind.MISSING,
            MismatchKind.UNKNOWN_REFERENCE,
        ]
    )
    assert (statement.row_count, statement.matched_count, statement.mismatch_count) == (4, 1, 4)
    differs = statement.mismatches.get(kind=MismatchKind.AMOUNT_DIFFERS)
    assert differs.partner_amount - differs.portal_amount == 1000

    # Paid there, failed here: the partner is asked first; it says failed, so nothing moves.
    paid_there = statement.mismatches.get(kind=MismatchKind.PAID_THERE_FAILED_HERE)
    assert (
        statement_mismatch_resolve(mismatch_id=paid_there.pk, action="rechecked", officer=officer)
        == "unchanged"
    )
    assert Payout.objects.get(pk=paid_there.payout_id).status == PayoutStatus.FAILED
    with pytest.raises(ReconciliationError):
        statement_mismatch_resolve(mismatch_id=paid_there.pk, action="marked_paid", officer=officer)

    # Notes need text; an officer without the permission is refused; a kind allows only its resolutions.
    unknown = statement.mismatches.get(kind=MismatchKind.UNKNOWN_REFERENCE)
    with pytest.raises(ReconciliationError):
        statement_mismatch_resolve(mismatch_id=unknown.pk, action="acknowledged", officer=officer, note=" ")
    with pytest.raises(ReconciliationError):
        statement_mismatch_resolve(mismatch_id=unknown.pk, action="marked_paid", officer=officer)
    with pytest.raises(ReconciliationError):
        statement_mismatch_resolve(
            mismatch_id=unknown.pk, action="acknowledged", officer=UserFactory(is_staff=True), note="x"
        )
    statement_mismatch_resolve(
        mismatch_id=unknown.pk, action="acknowledged", officer=officer, note="Ditanyakan ke mitra"
    )
    assert StatementMismatch.objects.get(pk=unknown.pk).resolved_by == officer
    assert AuditEntry.objects.filter(action="disbursement.statement_mismatch_resolve").count() == 2
    assert ledger_check().ok


def test_marking_paid_what_the_partner_paid_moves_the_ledger_once(simulator, paid_day):
    officer = finance_officer("recon@x.test")
    failed = Payout.objects.get(status=PayoutStatus.FAILED)
    statement = statement_reconcile(
        partner=paid_day, day=timezone.localdate(), content=_statement(simulator, paid_day, discrepancies=True),
        officer=officer,
    )  # fmt: skip
    mismatch = statement.mismatches.get(kind=MismatchKind.PAID_THERE_FAILED_HERE)

    assert (
        statement_mismatch_resolve(mismatch_id=mismatch.pk, action="marked_paid", officer=officer) == "paid"
    )

    failed.refresh_from_db()
    assert failed.status == PayoutStatus.PAID
    assert failed.entitlement.status == "paid"
    with pytest.raises(ReconciliationError):
        statement_mismatch_resolve(mismatch_id=mismatch.pk, action="marked_paid", officer=officer)
    assert ledger_check().ok


def test_a_malformed_statement_is_refused_with_a_reason(paid_day):
    officer = finance_officer("recon@x.test")

    with pytest.raises(ReconciliationError) as caught:
        statement_reconcile(
            partner=paid_day, day=timezone.localdate(), content=b"ref,amt\nA,1\n", officer=officer
        )

    assert "reference" in caught.value.message
    assert PartnerStatement.objects.count() == 0


def test_console_upload_and_mismatch_page(client, simulator, paid_day):
    officer = finance_officer("recon@x.test")
    client.force_login(officer)
    content = _statement(simulator, paid_day, discrepancies=True)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/admin/disbursement/partnerstatement/upload/",
        {
            "partner": paid_day.pk,
            "day": timezone.localdate().isoformat(),
            "file": SimpleUploadedFile("statement.csv", content, "text/csv"),
        },
    )
    statement = PartnerStatement.objects.get()
    assert response.status_code == 302
    assert response.url == f"/admin/disbursement/partnerstatement/{statement.pk}/mismatches/"
    page = client.get(response.url)
    assert page.status_code == 200
    assert page.content.decode().count("data-mismatch=") == 4
    unknown = statement.mismatches.get(kind=MismatchKind.UNKNOWN_REFERENCE)
    resolved = client.post(
        response.url, {"mismatch": unknown.pk, "action": "acknowledged", "note": "Lapor mitra"}
    )
    assert resolved.status_code == 302
    assert StatementMismatch.objects.get(pk=unknown.pk).resolution == "acknowledged"
    outsider = UserFactory(is_staff=True)
    client.force_login(outsider)
    assert client.get("/admin/disbursement/partnerstatement/upload/").status_code == 403


def _mismatches_page_queries(client, statement) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert (
            client.get(f"/admin/disbursement/partnerstatement/{statement.pk}/mismatches/").status_code == 200
        )
    return len(queries)


def test_mismatch_page_queries_do_not_grow_with_rows(client, paid_day):
    officer = finance_officer("recon@x.test")
    client.force_login(officer)
    payout = Payout.objects.first()
    one = PartnerStatement.objects.create(
        partner=paid_day, day=timezone.localdate(), file_sha256="a", uploaded_by=officer
    )
    three = PartnerStatement.objects.create(
        partner=paid_day, day=timezone.localdate(), file_sha256="b", uploaded_by=officer
    )
    StatementMismatch.objects.create(statement=one, kind=MismatchKind.MISSING, reference="X", payout=payout)
    for n in range(3):
        StatementMismatch.objects.create(
            statement=three, kind=MismatchKind.MISSING, reference=f"X{n}", payout=payout,
            resolution="acknowledged", resolved_by=officer, note="n",
        )  # fmt: skip

    assert _mismatches_page_queries(client, one) == _mismatches_page_queries(client, three)
