"""Money helpers. All amounts are whole rupiah held in integers."""

from __future__ import annotations


def format_rupiah(amount: int | None) -> str:
    """Format whole rupiah the Indonesian way: ``Rp1.000.000``, ``-Rp50.000``."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah amounts are integers, got {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(amount):,}".replace(",", ".")
    return f"{sign}Rp{grouped}"
