"""Reading uploaded CSV files: one decoding rule for every CSV upload.

A CSV upload must be UTF-8 (a byte-order mark is allowed: Excel's "CSV UTF-8"
writes one). Excel's plain "CSV" is Windows-1252/Latin-1 and "Unicode Text" is
UTF-16: decoding those as UTF-8 with replacement characters garbles names
silently, and a UTF-16 header reads as unknown column names. Such a file is
refused as a whole with a message that says what is wrong and how to save it.
"""

from __future__ import annotations

import codecs
import io

from django.utils.translation import gettext

CHUNK_BYTES = 64 * 1024


class CsvNotUtf8(ValueError):
    """The uploaded CSV file is not UTF-8 text; ``str(exc)`` is the message for the person."""


def csv_text(handle) -> io.TextIOWrapper:
    """A binary upload (seekable) as UTF-8 text for ``csv.reader``, or raise ``CsvNotUtf8``.

    The whole file is checked first (incrementally, in 64 KB chunks), so an
    import never stops half-way on a bad byte near the end.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    handle.seek(0)
    line = 1
    try:
        while chunk := handle.read(CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk.count(b"\n", 0, exc.start)
                raise
            line += chunk.count(b"\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise CsvNotUtf8(
            gettext(
                "The file is not saved as UTF-8 text (line %(line)s has a character in another encoding, "
                'such as Windows or Latin-1). In Excel choose "Save As", then "CSV UTF-8 (Comma delimited)"; '
                "or upload the .xlsx file."
            )
            % {"line": line}
        ) from None
    handle.seek(0)
    return io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
