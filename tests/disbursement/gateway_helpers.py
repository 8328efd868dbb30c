"""Many payees and a partner at the real simulator, for the gateway's fault and worker tests."""

from __future__ import annotations

import datetime

from disbursement.enums import EntitlementKind
from disbursement.models import PaymentPartner, PayoutAccount
from disbursement.services import entitlements_accrue_due, entitlements_schedule
from disbursement.services.partners import partner_secret_encrypt
from prakerja.models import User
from tests.disbursement.simulator_process import CALLBACK_SECRET, KEY_ID, SECRET

DUE_DAY = datetime.date(2026, 1, 1)


def partner_at(simulator, *, batch_limit: int = 5000) -> PaymentPartner:
    return PaymentPartner.objects.create(
        name=f"Simulator {simulator.port}",
        kind="ewallet",
        channels=["ovo", "dana", "bni"],
        base_url=simulator.url,
        key_id=KEY_ID,
        secret_encrypted=partner_secret_encrypt(SECRET),
        callback_secret_encrypted=partner_secret_encrypt(CALLBACK_SECRET),
        batch_limit=batch_limit,
    )


def payees(partner: PaymentPartner, count: int, *, amount: int = 600_000, closed: int = 0) -> list[User]:
    """``count`` people with an active OVO account and one due incentive; the first ``closed`` accounts
    end in 0000 (the simulator accepts, then fails them as closed)."""
    users = User.objects.bulk_create(User(email=f"payee{n}-{partner.pk}@example.id") for n in range(count))
    PayoutAccount.objects.bulk_create(
        PayoutAccount(
            owner=user,
            partner=partner,
            channel="ovo",
            account_number=f"0813{n:06d}0000" if n < closed else f"0813{n:06d}1234",
            holder_name="PENERIMA UJI",
            status="active",
        )
        for n, user in enumerate(users)
    )
    for user in users:
        entitlements_schedule(
            owner=user,
            kind=EntitlementKind.TRAINING_INCENTIVE,
            amount=amount,
            count=1,
            first_due_on=DUE_DAY,
            reference=f"test:{user.pk}",
            idempotency_key=f"training-incentive:{user.pk}",
        )
    entitlements_accrue_due(today=DUE_DAY)
    return users
