"""Helpers for payout tests: officers, a fake partner client, a person with due entitlements."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group

from disbursement.enums import EntitlementKind
from disbursement.gateway import BulkItemResult, DisbursementResult, PartnerRejected, PartnerUnavailable
from disbursement.services import entitlements_accrue_due, entitlements_schedule
from prakerja.roles import Role
from tests.disbursement.factories import PayoutAccountFactory
from tests.factories import UserFactory


def finance_officer(email: str):
    user = UserFactory(is_staff=True, email=email)
    user.groups.add(Group.objects.get(name=Role.FINANCE_OFFICER))
    return user


class FakePartner:
    """Answers disbursement_create like a partner that dedupes on the key; ``outcomes`` by reference."""

    def __init__(self, default: str = "paid"):
        self.default = default
        self.outcomes: dict[str, str | Exception] = {}
        self.calls: list[dict] = []
        self.first: dict[str, DisbursementResult] = {}

    def disbursement_create(self, **kwargs):
        self.calls.append(kwargs)
        key = kwargs["idempotency_key"]
        outcome = self.outcomes.get(kwargs["reference"], self.default)
        if isinstance(outcome, Exception):
            raise outcome
        if key not in self.first:
            failure = "account_closed" if outcome == "failed" else ""
            self.first[key] = DisbursementResult(
                reference=kwargs["reference"], status=outcome, failure_code=failure, partner_id=f"P-{key}"
            )
        return self.first[key]

    def disbursements_create_bulk(self, *, items):
        """The bulk create: each item as ``disbursement_create`` (recorded in ``calls`` one by one); an
        unavailable outcome fails the whole request, a rejection only its item."""
        results = []
        for item in items:
            try:
                results.append(BulkItemResult(item["idempotency_key"], self.disbursement_create(**item)))
            except PartnerRejected as exc:
                results.append(BulkItemResult(item["idempotency_key"], None, error_code=exc.code))
        return results


def use_fake_partner(monkeypatch, partner: FakePartner) -> FakePartner:
    monkeypatch.setattr("disbursement.services.partners.partner_client", lambda **kwargs: partner)
    return partner


UNAVAILABLE = PartnerUnavailable("timeout")


def person_with_due(*, partner=None, count: int = 1, amount: int = 600_000, account_kwargs=None):
    """A participant with an active account and ``count`` accrued (due) training incentives."""
    kwargs = {"partner": partner} if partner else {}
    account = PayoutAccountFactory(**kwargs, **(account_kwargs or {}))
    entitlements_schedule(
        owner=account.owner,
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=amount,
        count=count,
        interval_days=0,
        first_due_on=datetime.date(2026, 1, 1),
        reference="rating:1",
        idempotency_key=f"training-incentive:{account.owner.pk}",
    )
    entitlements_accrue_due(today=datetime.date(2026, 1, 1))
    return account
