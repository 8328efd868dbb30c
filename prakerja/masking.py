"""Masking of personal identifiers (NIK, KK, card and account numbers)."""

from __future__ import annotations

MASK_CHAR = "\u2022"  # bullet, as on the design card: 3275••••••••0001


def mask_identifier(value: str | None, *, keep_start: int = 4, keep_end: int = 4) -> str:
    """Show only the first and last digits of an identifier.

    ``3275010101900001`` becomes ``3275••••••••0001``. Short values are masked
    entirely so that nothing identifying leaks.
    """
    if not value:
        return ""
    value = str(value)
    if len(value) <= keep_start + keep_end:
        return MASK_CHAR * len(value)
    hidden = len(value) - keep_start - keep_end
    return f"{value[:keep_start]}{MASK_CHAR * hidden}{value[-keep_end:]}"
