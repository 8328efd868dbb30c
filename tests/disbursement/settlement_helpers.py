"""Helpers for settlement tests: a platform's payable account with purchases in it, as marketplace makes it."""

from __future__ import annotations

import datetime

from django.utils import timezone

from disbursement.enums import MovementKind, ProgrammeAccount
from disbursement.models import SettlementAccount
from disbursement.services import ledger_programme_account_open, ledger_transfer
from disbursement.services.settlements import (
    SettlementItemIn,
    settlement_account_ensure,
    settlement_bank_account_set,
    settlement_items_record,
)
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import finance_officer


def platform_payee(*, code: str = "platform_payable:900", name: str = "Platform Uji") -> SettlementAccount:
    ledger_programme_account_open(code=code, name=f"Purchases payable to {name}")
    return settlement_account_ensure(reference=f"test.platform:{code}", name=name, payable_code=code)


def purchase_into(payee: SettlementAccount, *, key: str, amount: int):
    """A purchase's movement: its price into the payee's payable account (from the training budget)."""
    return ledger_transfer(
        source=ledger_programme_account_open(code=ProgrammeAccount.TRAINING_BUDGET),
        destination=ledger_programme_account_open(code=payee.payable_code),
        amount=amount,
        kind=MovementKind.PURCHASE,
        idempotency_key=f"purchase:{key}",
        reference=f"marketplace.purchase:{key}",
    )


def redeemed(
    payee: SettlementAccount, *amounts: int, start: int = 1, description: str = ""
) -> list[SettlementItemIn]:
    """Purchases of ``amounts`` into the payee's payable, recorded as redeemed vouchers start, start+1, ..."""
    items = []
    for offset, amount in enumerate(amounts):
        number = start + offset
        movement = purchase_into(payee, key=f"{payee.pk}-{number}", amount=amount)
        items.append(
            SettlementItemIn(
                source_reference=f"marketplace.voucher:{payee.pk}-{number}",
                movement_id=movement.pk,
                amount=amount,
                code=f"VCR{number:05d}",
                description=description or f"Pelatihan {number}",
                occurred_at=timezone.now() - datetime.timedelta(hours=number),
            )
        )
    settlement_items_record(account=payee, items=items)
    return items


def with_bank(payee: SettlementAccount, *, partner=None, number: str = "1234567890") -> SettlementAccount:
    partner = partner or PaymentPartnerFactory(kind="bank", channels=["bni", "bni_va"])
    officer = finance_officer(f"bank-{payee.pk}-{partner.pk}@x.test")
    return settlement_bank_account_set(
        account_id=payee.pk,
        partner=partner,
        channel="bni",
        account_number=number,
        holder_name="PT PLATFORM UJI",
        actor=officer,
    )
