"""Pure checks shared by models' validation, forms and services (no writes here)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from prakerja.money import format_rupiah

# Indonesia's bounding box, generously: coordinates outside it are typos.
LATITUDE_RANGE = (-11.5, 6.5)
LONGITUDE_RANGE = (94.5, 141.5)


def price_problem(price: int | None, *, ceiling: int | None = None) -> str | None:
    """Why ``price`` cannot be charged, or None. ``ceiling`` is the approved training price."""
    if price is None or isinstance(price, bool) or not isinstance(price, int):
        return _("Enter the price in whole rupiah.")
    if price < 1:
        return _("The price must be at least Rp1.")
    if price > settings.MARKETPLACE_PRICE_MAX:
        return _("The price may not be more than %(max)s.") % {
            "max": format_rupiah(settings.MARKETPLACE_PRICE_MAX)
        }
    if ceiling is not None and price > ceiling:
        return _("The price may not be more than the approved training price of %(ceiling)s.") % {
            "ceiling": format_rupiah(ceiling)
        }
    return None


def coordinates_problem(latitude, longitude) -> str | None:
    if latitude is None or longitude is None:
        return _("Enter both latitude and longitude of the venue.")
    try:
        latitude, longitude = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return _("Enter the coordinates as decimal numbers, e.g. -6.2383 and 106.9756.")
    if not (LATITUDE_RANGE[0] <= latitude <= LATITUDE_RANGE[1]) or not (
        LONGITUDE_RANGE[0] <= longitude <= LONGITUDE_RANGE[1]
    ):
        return _("These coordinates are not in Indonesia. Check that latitude and longitude are not swapped.")
    return None
