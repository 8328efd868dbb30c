import datetime

import pytest
from django.utils import timezone

from disbursement.enums import EntitlementKind, EntitlementReason, EntitlementStatus
from disbursement.models import Entitlement
from disbursement.selectors import entitlement_first_training_incentive, entitlements_for_owner
from disbursement.services import entitlements_hold_for_owner, entitlements_schedule
from prakerja.models import AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _training(user, **kwargs):
    args = {
        "owner": user,
        "kind": EntitlementKind.TRAINING_INCENTIVE,
        "amount": 600_000,
        "count": 4,
        "interval_days": 30,
        "first_due_on": datetime.date(2026, 1, 10),
        "reference": "rating:7",
        "idempotency_key": f"training-incentive:{user.pk}",
    }
    args.update(kwargs)
    return entitlements_schedule(**args)


def test_schedule_creates_numbered_rows_due_every_interval():
    user = UserFactory()
    rows = _training(user, actor=user)
    assert [(r.number, r.amount, r.due_on, r.status) for r in rows] == [
        (1, 600_000, datetime.date(2026, 1, 10), EntitlementStatus.SCHEDULED),
        (2, 600_000, datetime.date(2026, 2, 9), EntitlementStatus.SCHEDULED),
        (3, 600_000, datetime.date(2026, 3, 11), EntitlementStatus.SCHEDULED),
        (4, 600_000, datetime.date(2026, 4, 10), EntitlementStatus.SCHEDULED),
    ]
    assert [r.idempotency_key for r in rows] == [f"training-incentive:{user.pk}:{n}" for n in (1, 2, 3, 4)]
    assert {r.reference for r in rows} == {"rating:7"}
    assert AuditEntry.objects.filter(action="disbursement.entitlements_schedule").count() == 1


def test_schedule_is_idempotent():
    user = UserFactory()
    first = _training(user)
    again = _training(user, amount=700_000, reference="rating:8")
    assert [r.pk for r in again] == [r.pk for r in first]
    assert Entitlement.objects.count() == 4
    assert set(Entitlement.objects.values_list("amount", flat=True)) == {600_000}
    assert AuditEntry.objects.filter(action="disbursement.entitlements_schedule").count() == 1


def test_survey_incentive_numbering_and_default_due_date():
    user = UserFactory()
    rows = entitlements_schedule(
        owner=user,
        kind=EntitlementKind.SURVEY_INCENTIVE,
        amount=50_000,
        first_number=2,
        reference="survey-response:3",
        idempotency_key=f"survey-incentive:{user.pk}:9",
    )
    assert [(r.number, r.due_on, r.idempotency_key) for r in rows] == [
        (2, timezone.localdate(), f"survey-incentive:{user.pk}:9:2")
    ]


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_schedule_refuses_bad_amounts(amount):
    with pytest.raises(ValueError):
        _training(UserFactory(), amount=amount)


def test_selectors():
    user, other = UserFactory(), UserFactory()
    assert entitlement_first_training_incentive(owner=user) is None
    entitlements_schedule(
        owner=user,
        kind=EntitlementKind.SURVEY_INCENTIVE,
        amount=50_000,
        first_due_on=datetime.date(2026, 1, 1),
        reference="survey-response:1",
        idempotency_key="s:1",
    )
    rows = _training(user)
    _training(other)
    assert [(e.kind, e.number) for e in entitlements_for_owner(owner=user)] == [
        (EntitlementKind.SURVEY_INCENTIVE, 1),
        (EntitlementKind.TRAINING_INCENTIVE, 1),
        (EntitlementKind.TRAINING_INCENTIVE, 2),
        (EntitlementKind.TRAINING_INCENTIVE, 3),
        (EntitlementKind.TRAINING_INCENTIVE, 4),
    ]
    assert entitlement_first_training_incentive(owner=user) == rows[0]


def test_hold_for_owner_holds_only_open_rows():
    user = UserFactory()
    rows = _training(user)
    Entitlement.objects.filter(pk=rows[0].pk).update(status=EntitlementStatus.PAID)
    held = entitlements_hold_for_owner(owner=user, reason=EntitlementReason.REVOKED)
    assert held == 3
    statuses = list(entitlements_for_owner(owner=user).values_list("status", "status_reason"))
    assert statuses == [(EntitlementStatus.PAID, "")] + [(EntitlementStatus.HELD, "revoked")] * 3
    assert entitlements_for_owner(owner=user)[1].reason_text == (
        "Kepesertaan Anda dicabut; pembayaran ditahan."
    )
