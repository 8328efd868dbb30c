"""A participant with a completed training, the way the marketplace leaves them."""

from __future__ import annotations

import itertools

from django.db import transaction

from marketplace import services as marketplace
from marketplace.services.purchases import _pay
from tests.marketplace.factories import ListingFactory, awaiting_purchase, participant_with_balance

_certificates = itertools.count(1)


def completed(*, participant=None, listing=None):
    """Buy (as if the SMS code was entered), redeem and complete a training; returns the Completion."""
    participant = participant or participant_with_balance(balance=1_000_000)
    listing = listing or ListingFactory(price=200_000)
    purchase = awaiting_purchase(participant=participant, listing=listing)
    with transaction.atomic():
        voucher = _pay(purchase=purchase, user=participant.applicant.user, phone=participant.applicant.phone)
    marketplace.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
    return marketplace.completion_record(
        code=voucher.code,
        platform_id=voucher.platform_id,
        certificate_number=f"CERT-{next(_certificates):05d}",
        score=90,
    )
