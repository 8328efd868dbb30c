"""Listings: a training's price and availability on one platform."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from marketplace.catalog_cache import catalog_version_bump
from marketplace.enums import TrainingStatus
from marketplace.exceptions import MarketplaceError, PriceNotAllowed
from marketplace.models import Listing, Platform, Training
from marketplace.rules import price_problem
from prakerja.audit import audit_log


class ListingRefused(MarketplaceError):
    code = "listing_refused"


def _check_url(url: str) -> None:
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ListingRefused(
            _("Enter the full address of the training's page, starting with https://.")
        ) from None
    if len(url) > 500:
        raise ListingRefused(_("The page address may have at most 500 characters."))


def _check_sku(sku: str) -> str:
    sku = (sku or "").strip()
    if not sku or len(sku) > 64:
        raise ListingRefused(_("The SKU has 1 to 64 characters."))
    return sku


def listing_create(
    *, training_id: int, platform_id: int, sku: str, url: str, price: int, is_available: bool = True, actor
) -> Listing:
    """A training put on sale on one platform (console or import); audited.

    The price may not exceed the training's price; one listing per training and
    platform, and one per SKU on a platform (ListingRefused otherwise).
    """
    sku = _check_sku(sku)
    _check_url(url)
    with transaction.atomic():
        training = Training.objects.select_for_update().get(pk=training_id)
        if training.status == TrainingStatus.REJECTED:
            raise ListingRefused(_("A rejected training cannot be listed."))
        problem = price_problem(price, ceiling=training.price)
        if problem:
            raise PriceNotAllowed(problem)
        platform = Platform.objects.get(pk=platform_id)
        if Listing.objects.filter(platform=platform, sku=sku).exists():
            raise ListingRefused(_("This platform already has a listing with SKU %(sku)s.") % {"sku": sku})
        if Listing.objects.filter(platform=platform, training=training).exists():
            raise ListingRefused(_("This training is already listed on this platform."))
        try:
            with transaction.atomic():
                listing = Listing.objects.create(
                    training=training,
                    platform=platform,
                    sku=sku,
                    url=url,
                    price=price,
                    is_available=is_available,
                )
        except IntegrityError:  # created by someone else a moment ago
            raise ListingRefused(
                _("This platform already has a listing with SKU %(sku)s.") % {"sku": sku}
            ) from None
        catalog_version_bump()
        audit_log(
            actor=actor,
            action="marketplace.listing.created",
            obj=listing,
            data={"price": price, "platform": platform.slug, "sku": sku, "is_available": is_available},
        )
    return listing


def listing_update(
    *,
    listing_id: int,
    actor=None,
    platform_id: int | None = None,
    price: int | None = None,
    is_available: bool | None = None,
    url: str | None = None,
    sku: str | None = None,
) -> Listing:
    """Change a listing's price, availability (and, from the console, its page and SKU); audited.

    ``platform_id`` limits it to that platform. Raises Listing.DoesNotExist for another
    platform's listing, PriceNotAllowed for a price above the approved training price or
    the programme maximum, ListingRefused for a bad page address or a SKU in use.
    """
    if url is not None:
        _check_url(url)
    if sku is not None:
        sku = _check_sku(sku)
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
        if url is not None and url != listing.url:
            changes["url"] = [listing.url, url]
            listing.url = url
        if sku is not None and sku != listing.sku:
            if (
                Listing.objects.filter(platform_id=listing.platform_id, sku=sku)
                .exclude(pk=listing.pk)
                .exists()
            ):
                raise ListingRefused(
                    _("This platform already has a listing with SKU %(sku)s.") % {"sku": sku}
                )
            changes["sku"] = [listing.sku, sku]
            listing.sku = sku
        if changes:
            listing.save(update_fields=[*changes, "updated_at"])
            catalog_version_bump()
            audit_log(
                actor=actor,
                action="marketplace.listing.updated",
                obj=listing,
                data={"changes": changes, "by_platform": listing.platform.slug if platform_id else None},
            )
    return listing


@dataclass(frozen=True)
class ListingRow:
    """One checked row of a listings spreadsheet."""

    platform_id: int
    sku: str
    training_id: int
    url: str
    price: int
    is_available: bool


def listings_import(*, rows: list[ListingRow], actor) -> tuple[dict[str, int], dict[int, str]]:
    """Create or update listings by (platform, SKU). Returns counts and, by index in ``rows``, refusals."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    refused: dict[int, str] = {}
    existing = {
        (listing.platform_id, listing.sku): listing
        for listing in Listing.objects.filter(
            platform_id__in={row.platform_id for row in rows}, sku__in={row.sku for row in rows}
        )
    }
    for index, row in enumerate(rows):
        current = existing.get((row.platform_id, row.sku))
        try:
            if current is None:
                listing_create(
                    training_id=row.training_id, platform_id=row.platform_id, sku=row.sku, url=row.url,
                    price=row.price, is_available=row.is_available, actor=actor,
                )  # fmt: skip
                counts["created"] += 1
                continue
            if current.training_id != row.training_id:
                raise ListingRefused(
                    _("SKU %(sku)s is already the listing of another training on this platform.")
                    % {"sku": row.sku}
                )
            before = (current.price, current.is_available, current.url)
            updated = listing_update(
                listing_id=current.pk,
                actor=actor,
                price=row.price,
                is_available=row.is_available,
                url=row.url,
            )
            changed = (updated.price, updated.is_available, updated.url) != before
            counts["updated" if changed else "unchanged"] += 1
        except MarketplaceError as exc:
            refused[index] = str(exc.message)
    return counts, refused
