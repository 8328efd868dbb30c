"""Log filters: NIK/KK numbers never reach a log line; a client's error is one line.

Services never log a full NIK on purpose; ``RedactPersonalData`` is the safety
net for messages that interpolate one by accident (exceptions, third-party
libraries). It masks NIK-shaped numbers only: 16 digits that are not part of a
longer number or a decimal (a task's ``0.1234567890123456s``), whose
first two digits are a province code (11-94), then any regency and district,
then a day (01-31, or 41-71 for women) and a month (01-12). A family card
(KK) number has the same shape. Card numbers, amounts and timings stay readable.

``ClientErrorsOneLine``: Django logs every 403 (and 400, 404 with a raised
exception) with the full traceback; a signed-in user could grow the log at will
by reloading a forbidden page. A request that ended in a 4xx keeps its one line.
"""

from __future__ import annotations

import logging
import re

from prakerja.masking import mask_identifier

# 16 digits, not inside a longer number nor a decimal (``0.1234567890123456``). A comma is no
# decimal point here: ``3275010101900001,3275010101900002`` is two numbers, both masked.
SIXTEEN_DIGITS = re.compile(r"(?<!\d)(?<!\d\.)\d{16}(?!\d)(?!\.\d)")


def nik_shaped(digits: str) -> bool:
    """Sixteen digits that could be a NIK or KK number: a province code and a date of birth/issue."""
    province, day, month = int(digits[0:2]), int(digits[6:8]), int(digits[8:10])
    return 11 <= province <= 94 and (1 <= day <= 31 or 41 <= day <= 71) and 1 <= month <= 12


def redact(text: str) -> str:
    return SIXTEEN_DIGITS.sub(
        lambda m: mask_identifier(m.group(0)) if nik_shaped(m.group(0)) else m.group(0), text
    )


class ClientErrorsOneLine(logging.Filter):
    """Drops the traceback of a record about a request that ended in a 4xx (``record.status_code``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


class RedactPersonalData(logging.Filter):
    """Masks 16-digit numbers in the message, the traceback and the stack of a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        # A database error's text quotes the row (``Key (nik)=(...) already exists``): formatters
        # reuse ``exc_text`` when it is set, so the traceback is rendered and masked here.
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
