import csv
import io

import pytest
from django.utils import translation

from prakerja.csvfiles import CHUNK_BYTES, CsvNotUtf8, csv_text


def test_utf8_with_or_without_a_byte_order_mark_is_read():
    for data in ("nama,kota\nDésirée,Bandung\n".encode(), "\ufeffnama,kota\nDésirée,Bandung\n".encode()):
        assert list(csv.reader(csv_text(io.BytesIO(data)))) == [["nama", "kota"], ["Désirée", "Bandung"]]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_another_encoding_is_refused_with_the_line_and_how_to_save_it(encoding):
    data = "nama,kota\nAndi,Bandung\nDésirée,Bandung\n".encode(encoding)
    with translation.override("en"), pytest.raises(CsvNotUtf8) as refused:
        csv_text(io.BytesIO(data))
    message = str(refused.value)
    assert message.startswith("The file is not saved as UTF-8 text (line ")
    assert '"CSV UTF-8 (Comma delimited)"' in message
    if encoding != "utf-16":
        assert "(line 3 " in message


def test_a_bad_byte_after_the_first_chunk_is_found_with_its_line():
    data = b"nama\n" + b"Andi\n" * (CHUNK_BYTES // 5 + 10) + "Désirée\n".encode("latin-1")
    with translation.override("id"), pytest.raises(CsvNotUtf8, match=rf"\(baris {CHUNK_BYTES // 5 + 12} "):
        csv_text(io.BytesIO(data))
