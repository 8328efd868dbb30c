"""Indonesian mobile numbers, parsed with ``phonenumbers``."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_lazy as _

PHONE_ERRORS = {
    "invalid": _("Enter a valid Indonesian mobile number, for example 0812 3456 7890."),
    "not_indonesian": _("Use an Indonesian mobile number (+62)."),
    "not_mobile": _(
        "This looks like a landline number. Enter a mobile number that can receive SMS (starting with 08)."
    ),
}


class PhoneError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code
        self.message = PHONE_ERRORS[code]


def phone_parse(raw: str) -> str:
    """``0812-3456-7890``, ``62812...`` or ``+62 812 ...`` -> ``+6281234567890`` (E.164)."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("62") or (digits.startswith("62") and not text.startswith(("0", "+"))):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError("invalid") from exc
    if number.country_code != 62:
        raise PhoneError("not_indonesian")
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("invalid")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise PhoneError("not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """``+6281234567890`` -> ``0812-3456-7890`` (how people write their own number)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "ID")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_masked(e164: str) -> str:
    """``+6281234567890`` -> ``0812••••7890``: for pages that only remind which number."""
    national = "0" + e164[3:] if e164.startswith("+62") else e164
    if len(national) < 8:
        return national
    return f"{national[:4]}{'•' * (len(national) - 8)}{national[-4:]}"
