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
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
