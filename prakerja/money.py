"""Money helpers. All amounts are whole rupiah held in integers."""

from __future__ import annotations

from django.utils.html import format_html


def format_rupiah(amount: int | None) -> str:
    """Format whole rupiah the Indonesian way: ``Rp1.000.000``, ``-Rp50.000``."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah amounts are integers, got {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(amount):,}".replace(",", ".")
    return f"{sign}Rp{grouped}"


def format_rupiah_html(amount: int | None) -> str:
    """``format_rupiah`` in a span that never wraps between the minus sign and the number
    (the ``rupiah`` class of the portal's and the console's style sheets: no style attribute,
    which the Content-Security-Policy refuses)."""
    return format_html('<span class="rupiah">{}</span>', format_rupiah(amount))
