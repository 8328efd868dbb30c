"""Log filter that keeps NIK/KK numbers out of every log line.

Services never log a full NIK on purpose; this filter is the safety net for
messages that interpolate one by accident (exceptions, third-party libraries).
"""

from __future__ import annotations

import logging
import re

from prakerja.masking import mask_identifier

SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


def redact(text: str) -> str:
    return SIXTEEN_DIGITS.sub(lambda m: mask_identifier(m.group(0)), text)


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
