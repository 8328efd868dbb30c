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


class PaymentPartnerFactory(factory.django.DjangoModelFactory):
    """A partner paying into OVO and DANA, with encrypted demo credentials."""

    class Meta:
        model = "disbursement.PaymentPartner"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partner {n}")
    kind = "ewallet"
    channels = factory.LazyFunction(lambda: ["ovo", "dana", "bni"])
    base_url = "http://127.0.0.1:9/"
    key_id = "test-key"
    active = True
    batch_limit = 100

    @factory.post_generation
    def secrets(self, create, extracted, **kwargs):
        from disbursement.services.partners import partner_secret_encrypt

        self.secret_encrypted = partner_secret_encrypt("test-secret")
        self.callback_secret_encrypted = partner_secret_encrypt("test-callback-secret")
        if create:
            self.save(update_fields=["secret_encrypted", "callback_secret_encrypted"])


class PayoutAccountFactory(factory.django.DjangoModelFactory):
    """An active e-wallet account (no cooling-off)."""

    class Meta:
        model = "disbursement.PayoutAccount"

    owner = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PaymentPartnerFactory)
    channel = "ovo"
    account_number = factory.Sequence(lambda n: f"0812{n:08d}")
    holder_name = "BUDI SANTOSO"
    status = "active"
