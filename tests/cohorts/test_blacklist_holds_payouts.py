import datetime

import pytest

from cohorts.services import blacklist_add
from disbursement.enums import EntitlementKind
from disbursement.models import Entitlement
from disbursement.services import entitlements_schedule
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_blacklisting_holds_open_incentives():
    applicant = ApplicantFactory()
    entitlements_schedule(
        owner=applicant.user,
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=600_000,
        count=4,
        first_due_on=datetime.date(2027, 1, 1),
        reference="rating:1",
        idempotency_key="t:1",
    )
    blacklist_add(applicant=applicant, reason="Fraud", actor=UserFactory(is_staff=True))
    assert set(Entitlement.objects.values_list("status", "status_reason")) == {("held", "blacklisted")}
