"""Voucher and redeem codes: random, unguessable, easy to read aloud and type on a phone.

The alphabet has 31 symbols, without 0/O and 1/I/L, so a code read over the
phone is not misheard. A voucher code (and a redeem code) has 12 symbols (about 59 bits): with
ten million vouchers issued, a random guess hits one with a chance of about
one in 10^11. Codes are stored without separators and shown in groups of four
(``7KQ2-M9XD-4TFA``); input is accepted in any case, with or without dashes
and spaces.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VOUCHER_CODE_LENGTH = 12
REDEEM_CODE_LENGTH = 12
# Printed on a certificate and checked by anyone at /sertifikat/<code>/: about 59 bits, not guessable.
CERTIFICATE_CODE_LENGTH = 12
CODE_MAX_INPUT = 40


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def voucher_code_new() -> str:
    return _random(VOUCHER_CODE_LENGTH)


def redeem_code_new() -> str:
    return _random(REDEEM_CODE_LENGTH)


def certificate_code_new() -> str:
    return _random(CERTIFICATE_CODE_LENGTH)


def code_normalize(raw: str | None) -> str:
    """``7kq2-m9xd 4tfa`` -> ``7KQ2M9XD4TFA``. Anything else than symbols, dashes and spaces gives ""."""
    text = (raw or "")[:CODE_MAX_INPUT].upper().replace("-", "").replace(" ", "")
    if not text or any(ch not in ALPHABET for ch in text):
        return ""
    return text


def code_display(code: str) -> str:
    """``7KQ2M9XD4TFA`` -> ``7KQ2-M9XD-4TFA``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
