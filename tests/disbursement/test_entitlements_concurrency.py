"""Two concurrent schedules of the same key on PostgreSQL schedule once."""

import datetime
import threading

import pytest
from django.db import connection

from disbursement.enums import EntitlementKind
from disbursement.models import Entitlement
from disbursement.services import entitlements_schedule
from prakerja.models import AuditEntry
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_double_schedule_schedules_once():
    user = UserFactory()
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def run(index):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = entitlements_schedule(
                owner=user,
                kind=EntitlementKind.TRAINING_INCENTIVE,
                amount=600_000,
                count=4,
                first_due_on=datetime.date(2026, 1, 1),
                reference="rating:1",
                idempotency_key=f"training-incentive:{user.pk}",
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [[e.number for e in rows] for rows in outcomes] == [[1, 2, 3, 4], [1, 2, 3, 4]]
    assert [e.pk for e in outcomes[0]] == [e.pk for e in outcomes[1]]
    assert Entitlement.objects.count() == 4
    assert AuditEntry.objects.filter(action="disbursement.entitlements_schedule").count() == 1
