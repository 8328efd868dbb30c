"""Listings: a training's price and availability on one platform."""

from __future__ import annotations

from django.db import transaction

from marketplace.exceptions import PriceNotAllowed
from marketplace.models import Listing
from marketplace.rules import price_problem
from prakerja.audit import audit_log


def listing_update(
    *,
    listing_id: int,
    actor=None,
    platform_id: int | None = None,
    price: int | None = None,
    is_available: bool | None = None,
) -> Listing:
    """Change a listing's price and/or availability; audited. ``platform_id`` limits it to that platform.

    Raises Listing.DoesNotExist for another platform's listing and PriceNotAllowed
    for a price above the approved training price or the programme maximum.
    """
    with transaction.atomic():
        queryset = Listing.objects.select_for_update().select_related("training", "platform")
        if platform_id is not None:
            queryset = queryset.filter(platform_id=platform_id)
        listing = queryset.get(pk=listing_id)
        changes: dict[str, list] = {}
        if price is not None and price != listing.price:
            problem = price_problem(price, ceiling=listing.training.price)
            if problem:
                raise PriceNotAllowed(problem)
            changes["price"] = [listing.price, price]
            listing.price = price
        if is_available is not None and is_available != listing.is_available:
            changes["is_available"] = [listing.is_available, is_available]
            listing.is_available = is_available
        if changes:
            listing.save(update_fields=[*changes, "updated_at"])
            audit_log(
                actor=actor,
                action="marketplace.listing.updated",
                obj=listing,
                data={"changes": changes, "by_platform": listing.platform.slug if platform_id else None},
            )
    return listing
