"""The money path of an incentive: due -> payable -> batch (clearing) -> paid out, or failed -> payable."""

import datetime

import pytest

from disbursement.enums import (
    AccountKind,
    BatchStatus,
    EntitlementKind,
    EntitlementReason,
    EntitlementStatus,
    PayoutStatus,
    ProgrammeAccount,
)
from disbursement.models import Entitlement, LedgerAccount, Payout, PayoutBatchApproval
from disbursement.selectors import ledger_check
from disbursement.services import (
    BatchError,
    batch_approve,
    batch_cancel,
    batch_prepare,
    batch_progress,
    entitlements_accrue_due,
    entitlements_hold_for_owner,
    entitlements_schedule,
    payout_mark_failed,
    payout_mark_paid,
    payout_move_to_next_batch,
    payout_retry,
)
from prakerja.models import AuditEntry, Notification
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import (
    UNAVAILABLE,
    FakePartner,
    finance_officer,
    person_with_due,
    use_fake_partner,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _balance(code=None, owner=None):
    if code:
        return LedgerAccount.objects.get(code=code).balance
    return LedgerAccount.objects.get(owner=owner, kind=AccountKind.INCENTIVE_PAYABLE).balance


def test_accrual_moves_budget_to_payable_once_and_only_when_due():
    user = UserFactory()
    entitlements_schedule(
        owner=user,
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=600_000,
        count=4,
        first_due_on=datetime.date(2026, 1, 1),
        reference="rating:1",
        idempotency_key="t:1",
    )
    result = entitlements_accrue_due(today=datetime.date(2026, 1, 31))
    assert (result.moved, result.total_amount) == (2, 1_200_000)
    again = entitlements_accrue_due(today=datetime.date(2026, 1, 31))
    assert (again.moved, again.total_amount) == (0, 0)
    assert _balance(owner=user) == 1_200_000
    assert _balance(code=ProgrammeAccount.INCENTIVE_BUDGET) == -1_200_000
    assert list(Entitlement.objects.order_by("number").values_list("status", flat=True)) == [
        "due",
        "due",
        "scheduled",
        "scheduled",
    ]
    assert ledger_check().ok


def test_held_entitlement_accrues_but_stays_held():
    user = UserFactory()
    entitlements_schedule(
        owner=user,
        kind=EntitlementKind.SURVEY_INCENTIVE,
        amount=50_000,
        first_due_on=datetime.date(2026, 1, 1),
        reference="s",
        idempotency_key="s:1",
    )
    entitlements_hold_for_owner(owner=user, reason=EntitlementReason.REVOKED)
    entitlements_accrue_due(today=datetime.date(2026, 1, 1))
    entitlement = Entitlement.objects.get()
    assert (entitlement.status, entitlement.accrued_at is not None) == ("held", True)
    assert _balance(owner=user) == 50_000


def test_prepare_approve_send_pays_and_ledger_adds_up(monkeypatch, django_capture_on_commit_callbacks):
    fake = use_fake_partner(monkeypatch, FakePartner("paid"))
    account = person_with_due(count=2)
    partner = account.partner
    preparer, approver = finance_officer("a@x.test"), finance_officer("b@x.test")
    batch = batch_prepare(partner=partner, actor=preparer)
    assert (batch.payout_count, batch.total_amount, batch.approvals_required) == (2, 1_200_000, 1)
    assert _balance(owner=account.owner) == 0
    assert _balance(code=partner.clearing_code) == 1_200_000
    assert set(Entitlement.objects.values_list("status", flat=True)) == {"in_batch"}
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_approve(batch_id=batch.pk, officer=approver)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE
    assert [c["idempotency_key"] for c in fake.calls] == [
        p.idempotency_key for p in Payout.objects.order_by("id")
    ]
    assert set(Payout.objects.values_list("status", flat=True)) == {"paid"}
    assert set(Entitlement.objects.values_list("status", flat=True)) == {"paid"}
    assert _balance(code=partner.clearing_code) == 0
    assert _balance(code=ProgrammeAccount.INCENTIVES_PAID_OUT) == 1_200_000
    assert _balance(code=ProgrammeAccount.INCENTIVE_BUDGET) == -1_200_000
    progress = batch_progress(batch=batch)
    assert (progress["paid_count"], progress["paid_amount"], progress["sent_count"]) == (2, 1_200_000, 2)
    assert ledger_check().ok
    bodies = list(Notification.objects.filter(channel="email").values_list("body", flat=True))
    assert len(bodies) == 4  # sent + paid, for each of the two payouts
    assert AuditEntry.objects.filter(action="disbursement.batch_approve", actor=approver).count() == 1


def test_preparer_cannot_approve_own_batch():
    account = person_with_due()
    preparer = finance_officer("a@x.test")
    batch = batch_prepare(partner=account.partner, actor=preparer)
    with pytest.raises(BatchError) as error:
        batch_approve(batch_id=batch.pk, officer=preparer)
    assert "aturan dua orang" in str(error.value.message)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PREPARED
    assert PayoutBatchApproval.objects.count() == 0
    assert AuditEntry.objects.filter(action="disbursement.batch_approve_refused").count() == 1


def test_large_batch_needs_a_second_approver(settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.PAYOUT_THIRD_APPROVAL_ABOVE = 1_000_000
    use_fake_partner(monkeypatch, FakePartner("accepted"))
    account = person_with_due(count=2)
    preparer, first, second = (finance_officer(f"{n}@x.test") for n in "abc")
    batch = batch_prepare(partner=account.partner, actor=preparer)
    assert batch.approvals_required == 2
    batch = batch_approve(batch_id=batch.pk, officer=first)
    assert batch.status == BatchStatus.PREPARED
    with pytest.raises(BatchError):
        batch_approve(batch_id=batch.pk, officer=first)
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_approve(batch_id=batch.pk, officer=second)
    assert batch.status == BatchStatus.APPROVED
    assert set(Payout.objects.values_list("status", flat=True)) == {"accepted"}


def test_officer_without_permission_cannot_approve():
    account = person_with_due()
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    with pytest.raises(BatchError):
        batch_approve(batch_id=batch.pk, officer=UserFactory(is_staff=True))


def test_no_account_no_batch_and_cooling_off_waits():
    account = person_with_due(
        account_kwargs={"payable_from": datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)}
    )
    assert batch_prepare(partner=account.partner) is None
    other_partner = PaymentPartnerFactory()
    assert batch_prepare(partner=other_partner) is None


def test_failed_payout_reverses_into_payable_then_retry_pays(monkeypatch, django_capture_on_commit_callbacks):
    fake = use_fake_partner(monkeypatch, FakePartner("failed"))
    account = person_with_due()
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    payout = Payout.objects.get()
    entitlement = Entitlement.objects.get()
    assert (payout.status, payout.failure_code) == ("failed", "account_closed")
    assert (entitlement.status, entitlement.status_reason) == ("failed", EntitlementReason.ACCOUNT_CLOSED)
    assert _balance(owner=account.owner) == 600_000
    assert _balance(code=account.partner.clearing_code) == 0
    assert ledger_check().ok
    # A callback saying "failed" again changes nothing.
    assert payout_mark_failed(payout_id=payout.pk, failure_code="account_closed") is False
    fake.first.clear()
    fake.default = "paid"
    with django_capture_on_commit_callbacks(execute=True):
        assert payout_retry(payout_id=payout.pk, actor=finance_officer("c@x.test")) is True
    payout.refresh_from_db()
    assert (payout.status, payout.round, payout.idempotency_key) == (
        "paid",
        2,
        fake.calls[-1]["idempotency_key"],
    )
    assert fake.calls[0]["idempotency_key"] == fake.calls[-1]["idempotency_key"]
    assert _balance(owner=account.owner) == 0
    assert _balance(code=ProgrammeAccount.INCENTIVES_PAID_OUT) == 600_000
    assert ledger_check().ok


def test_move_failed_payout_to_next_batch(monkeypatch, django_capture_on_commit_callbacks):
    use_fake_partner(monkeypatch, FakePartner("failed"))
    account = person_with_due()
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    payout = Payout.objects.get()
    assert payout_move_to_next_batch(payout_id=payout.pk, actor=finance_officer("c@x.test")) is True
    assert Entitlement.objects.get().status == EntitlementStatus.DUE
    second = batch_prepare(partner=account.partner)
    new_payout = second.payouts.get()
    assert new_payout.idempotency_key != payout.idempotency_key
    assert list(Payout.objects.order_by("id").values_list("status", flat=True)) == ["cancelled", "queued"]
    assert ledger_check().ok


def test_transient_error_leaves_payout_sending_then_resend_with_same_key(
    monkeypatch, django_capture_on_commit_callbacks, settings
):
    settings.PAYOUT_SEND_RETRIES = 0
    fake = use_fake_partner(monkeypatch, FakePartner("paid"))
    account = person_with_due()
    fake.outcomes[f"PKJ-{1}"] = "x"  # unused reference; keeps the default
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    payout = batch.payouts.get()
    fake.outcomes[payout.reference] = UNAVAILABLE
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENDING
    from disbursement.services import payout_send

    del fake.outcomes[payout.reference]
    assert payout_send(payout_id=payout.pk) == "skipped"  # not a resend: someone else holds it
    assert payout_send(payout_id=payout.pk, resend=True) == "paid"
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("paid", 2)
    assert {c["idempotency_key"] for c in fake.calls} == {payout.idempotency_key}
    assert ledger_check().ok


def test_paid_after_failed_moves_money_once(monkeypatch, django_capture_on_commit_callbacks):
    use_fake_partner(monkeypatch, FakePartner("failed"))
    account = person_with_due()
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    payout = Payout.objects.get()
    officer = finance_officer("c@x.test")
    with django_capture_on_commit_callbacks(execute=True):
        assert payout_mark_paid(payout_id=payout.pk, actor=officer) is True
        assert payout_mark_paid(payout_id=payout.pk, actor=officer) is False
    assert _balance(owner=account.owner) == 0
    assert _balance(code=ProgrammeAccount.INCENTIVES_PAID_OUT) == 600_000
    assert Entitlement.objects.get().status == "paid"
    assert ledger_check().ok


def test_hold_before_approval_takes_the_payout_out(monkeypatch):
    account = person_with_due()
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    entitlements_hold_for_owner(owner=account.owner, reason=EntitlementReason.REVOKED)
    batch = batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    assert batch.status == BatchStatus.DONE
    assert (batch.payout_count, batch.total_amount) == (0, 0)
    entitlement = Entitlement.objects.get()
    assert (entitlement.status, entitlement.status_reason) == ("held", "revoked")
    assert _balance(owner=account.owner) == 600_000
    assert ledger_check().ok


def test_cancel_batch_returns_entitlements_to_due():
    account = person_with_due(count=2)
    officer = finance_officer("a@x.test")
    batch = batch_prepare(partner=account.partner, actor=officer)
    batch = batch_cancel(batch_id=batch.pk, officer=officer)
    assert batch.status == BatchStatus.CANCELLED
    assert set(Entitlement.objects.values_list("status", flat=True)) == {"due"}
    assert _balance(owner=account.owner) == 1_200_000
    assert ledger_check().ok


def test_newly_excluded_person_is_held_at_approval_not_paid(monkeypatch, django_capture_on_commit_callbacks):
    from registration.enums import ScreeningCategory, ScreeningKind
    from registration.models import ScreeningEntry, ScreeningList
    from tests.factories import ApplicantFactory

    fake = use_fake_partner(monkeypatch, FakePartner("paid"))
    applicant = ApplicantFactory()
    account = person_with_due(account_kwargs={"owner": applicant.user})
    other = person_with_due(partner=account.partner)
    preparer = finance_officer("a@x.test")
    batch = batch_prepare(partner=account.partner, actor=preparer)
    assert batch.payout_count == 2
    asn = ScreeningList.objects.create(
        kind=ScreeningKind.EXCLUSION,
        category=ScreeningCategory.CIVIL_SERVANT,
        name="ASN",
        source="BKN",
        reference_date=datetime.date(2026, 1, 1),
        reason="ASN",
        created_by=preparer,
    )
    ScreeningEntry.objects.create(screening_list=asn, batch=asn.current_batch, nik=applicant.nik)
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    assert (batch.payout_count, batch.total_amount) == (1, 600_000)
    held = Entitlement.objects.get(owner=applicant.user)
    assert (held.status, held.status_reason) == ("held", "excluded")
    assert Entitlement.objects.get(owner=other.owner).status == "paid"
    assert [c["account_number"] for c in fake.calls] == [other.account_number]
    assert _balance(owner=applicant.user) == 600_000
    entry = AuditEntry.objects.get(action="disbursement.batch_approve")
    assert entry.data["excluded"] == 1
    assert ledger_check().ok


def test_messages_in_the_persons_language_sms_in_plain_characters(
    monkeypatch, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from tests.factories import ApplicantFactory

    use_fake_partner(monkeypatch, FakePartner("failed"))
    applicant = ApplicantFactory(
        phone="+6281234567890", phone_verified_at=timezone.now(), user__language="en"
    )
    account = person_with_due(account_kwargs={"owner": applicant.user, "account_number": "081234567890"})
    batch = batch_prepare(partner=account.partner, actor=finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    sms = list(Notification.objects.filter(channel="sms").order_by("id").values_list("body", flat=True))
    assert sms == [
        "Prakerja: your incentive of Rp600.000 is on its way to OVO ****7890.",
        "Prakerja: the transfer of Rp600.000 to OVO ****7890 failed. See the Incentive page for what to do.",
    ]
    email = Notification.objects.filter(channel="email").order_by("id").last()
    assert "The destination account is closed or blocked." in email.body


def test_sweeper_resends_stuck_sending_and_lost_queued_payouts(monkeypatch, settings):
    import datetime as dt

    from django.utils import timezone

    from disbursement.models import PayoutBatch
    from disbursement.tasks import payouts_resend_stuck_task

    settings.PAYOUT_SENDING_STUCK_AFTER_SECONDS = 300
    fake = use_fake_partner(monkeypatch, FakePartner("paid"))
    partner = PaymentPartnerFactory()
    person_with_due(partner=partner, count=2)
    batch = batch_prepare(partner=partner, actor=finance_officer("a@x.test"))
    batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"), send=False)
    PayoutBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENDING)
    first, second = Payout.objects.order_by("id")
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    # One was claimed by a worker that died before the partner answered; the other's task was lost.
    Payout.objects.filter(pk=first.pk).update(status="sending", sending_at=long_ago, attempts=1)
    Payout.objects.filter(pk=second.pk).update(updated_at=long_ago)
    assert payouts_resend_stuck_task() == 2
    assert set(Payout.objects.values_list("status", flat=True)) == {"paid"}
    assert sorted(c["idempotency_key"] for c in fake.calls) == sorted(
        [first.idempotency_key, second.idempotency_key]
    )
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE
    assert ledger_check().ok
