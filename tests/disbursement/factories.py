from __future__ import annotations

import factory

from disbursement.enums import AccountKind
from disbursement.models import LedgerAccount
from tests.factories import UserFactory


class TrainingBalanceFactory(factory.django.DjangoModelFactory):
    """An empty training balance account; put money on it with ledger_credit."""

    class Meta:
        model = LedgerAccount

    kind = AccountKind.TRAINING_BALANCE
    owner = factory.SubFactory(UserFactory)
