"""What the programme owes each platform: the price of every redeemed voucher, handed to disbursement.

A purchase pays its price into the platform's payable account at once; the platform has earned it when it
redeems the voucher (the participant started the training). ``voucher_redeem`` then records the voucher
with ``voucher_settlement_record`` in the same transaction; ``platform_settlements_sync`` records every
redeemed or completed voucher that is not recorded yet (vouchers redeemed before settlements existed, or
written in bulk outside the service), and is safe to run any time. Paying them out (prepare, approve, send,
statement) is disbursement's: ``disbursement.services.settlements`` and the console's
*Platform settlement accounts*.
"""

from __future__ import annotations

from disbursement.models import SettlementAccount
from disbursement.services.settlements import (
    SettlementItemIn,
    settlement_account_ensure,
    settlement_items_record,
)
from marketplace.enums import PurchaseStatus, VoucherStatus
from marketplace.models import Platform, Voucher
from marketplace.services.purchases import platform_payable_account

SYNC_CHUNK = 2000


def voucher_settlement_reference(voucher_id: int) -> str:
    return f"marketplace.voucher:{voucher_id}"


def platform_settlement_account(platform: Platform) -> SettlementAccount:
    """The platform's settlement account in disbursement (opened, without bank details, if new)."""
    return settlement_account_ensure(
        reference=f"marketplace.platform:{platform.pk}",
        name=platform.name,
        payable_code=platform_payable_account(platform).code,
    )


def _item(voucher: Voucher) -> SettlementItemIn:
    return SettlementItemIn(
        source_reference=voucher_settlement_reference(voucher.pk),
        movement_id=voucher.purchase.movement_id,
        amount=voucher.purchase.price,
        code=voucher.display_code,
        description=voucher.training.title,
        occurred_at=voucher.redeemed_at,
    )


def voucher_settlement_record(*, voucher_id: int) -> int:
    """Record one redeemed voucher as owed to its platform (once; a repeat records nothing)."""
    voucher = (
        Voucher.objects.select_related("purchase", "training", "platform")
        .filter(
            pk=voucher_id,
            status__in=(VoucherStatus.REDEEMED, VoucherStatus.COMPLETED),
            purchase__status=PurchaseStatus.PAID,
        )
        .first()
    )
    if voucher is None or voucher.purchase.movement_id is None:
        return 0
    account = platform_settlement_account(voucher.platform)
    return settlement_items_record(account=account, items=[_item(voucher)])


def platform_settlements_sync(*, platform_id: int | None = None) -> int:
    """Record every redeemed or completed voucher not recorded yet; returns how many were new."""
    platforms = Platform.objects.order_by("pk")
    if platform_id is not None:
        platforms = platforms.filter(pk=platform_id)
    recorded = 0
    for platform in platforms:
        account = platform_settlement_account(platform)
        vouchers = (
            Voucher.objects.filter(
                platform=platform,
                status__in=(VoucherStatus.REDEEMED, VoucherStatus.COMPLETED),
                purchase__status=PurchaseStatus.PAID,
                purchase__movement__isnull=False,
                redeemed_at__isnull=False,
            )
            .select_related("purchase", "training")
            .order_by("pk")
        )
        last = 0
        while True:
            chunk = list(vouchers.filter(pk__gt=last)[:SYNC_CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            recorded += settlement_items_record(account=account, items=[_item(v) for v in chunk])
    return recorded
