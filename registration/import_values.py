"""The coded columns of the Disnaker spreadsheet: the values staff write, the variants accepted, the template.

One list per column says what the template's drop-downs offer and what the import page lists; the
variants are what people type anyway (``tidak_bekerja``, ``Tidak Bekerja``, ``laki-laki``, ``SMA/SMK``).
Matching ignores case, and treats spaces, underscores and dashes alike.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from registration.enums import Education, EmploymentStatus, Gender


@dataclass(frozen=True)
class CodedValue:
    written: str  # what the template offers
    meaning: object  # a lazy label for the page
    value: str  # the stored choice
    variants: tuple[str, ...] = ()


CODED_COLUMNS: dict[str, list[CodedValue]] = {
    "jenis_kelamin": [
        CodedValue("L", Gender.MALE.label, Gender.MALE, ("laki-laki", "laki laki", "pria", "m", "male")),
        CodedValue("P", Gender.FEMALE.label, Gender.FEMALE, ("perempuan", "wanita", "f", "female")),
    ],
    "pendidikan": [
        CodedValue(
            "tidak sekolah", Education.NONE.label, Education.NONE, ("tidak tamat sd", "none", "belum sekolah")
        ),
        CodedValue("SD", Education.SD.label, Education.SD, ("sd/mi", "mi")),
        CodedValue("SMP", Education.SMP.label, Education.SMP, ("smp/mts", "mts")),
        CodedValue("SMA", Education.SMA.label, Education.SMA, ("sma/smk", "smk", "ma", "sma/ma", "slta")),
        CodedValue("D3", Education.D3.label, Education.D3, ("d1", "d2", "diploma")),
        CodedValue("S1", Education.S1.label, Education.S1, ("d4", "sarjana")),
        CodedValue("S2", Education.S2.label, Education.S2, ("s3", "magister", "doktor")),
    ],
    "status_pekerjaan": [
        CodedValue(
            "tidak bekerja",
            EmploymentStatus.NOT_WORKING.label,
            EmploymentStatus.NOT_WORKING,
            ("belum bekerja", "not working", "pengangguran"),
        ),
        CodedValue(
            "phk", EmploymentStatus.LAID_OFF.label, EmploymentStatus.LAID_OFF, ("korban phk", "laid off")
        ),
        CodedValue(
            "dirumahkan", EmploymentStatus.FURLOUGHED.label, EmploymentStatus.FURLOUGHED, ("furloughed",)
        ),
        CodedValue(
            "informal", EmploymentStatus.INFORMAL.label, EmploymentStatus.INFORMAL, ("pekerja informal",)
        ),
        CodedValue(
            "usaha mikro",
            EmploymentStatus.MICRO_BUSINESS.label,
            EmploymentStatus.MICRO_BUSINESS,
            ("usaha mikro/kecil", "usaha kecil", "umk", "umkm", "micro business"),
        ),
        CodedValue(
            "bekerja", EmploymentStatus.EMPLOYED.label, EmploymentStatus.EMPLOYED, ("employed", "karyawan")
        ),
    ],
}


def coded_key(raw: str) -> str:
    """``Tidak_Bekerja`` -> ``tidak bekerja``: case, and spaces, underscores and dashes, do not matter."""
    return " ".join(re.split(r"[\s_\-]+", (raw or "").strip().lower())).strip()


def _lookup(column: str) -> dict[str, str]:
    table = {}
    for coded in CODED_COLUMNS[column]:
        for word in (coded.written, coded.value, *coded.variants):
            table[coded_key(word)] = coded.value
    return table


LOOKUPS = {column: _lookup(column) for column in CODED_COLUMNS}


def coded_value(column: str, raw: str) -> str | None:
    """The stored choice for what a spreadsheet cell says, or None when it is not an accepted value."""
    return LOOKUPS[column].get(coded_key(raw))


TEMPLATE_ROWS = 5000
EXAMPLE_ROW = [
    "3204055403950001",
    "3204050101100002",
    "Siti Nurhaliza",
    "Bandung",
    "14-03-1995",
    "P",
    "Jl. Merdeka No. 1, RT 01/RW 02",
    "32.04.05",
    "SMA",
    "phk",
    "081234567890",
]


def offline_template_xlsx(columns: list[str]) -> bytes:
    """The template as an Excel workbook: identity numbers as text, the coded columns as drop-downs.

    A second sheet lists the accepted values (the drop-downs read them from there) with their meaning.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "Pendaftar"
    values_sheet = book.create_sheet("Nilai")
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(EXAMPLE_ROW)
    text_columns = {"nik", "no_kk", "no_hp", "kode_kecamatan", "tanggal_lahir"}
    values_column = 1
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(14, len(name) + 4)
        if name in text_columns:
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
        if name not in CODED_COLUMNS:
            continue
        options = CODED_COLUMNS[name]
        source_letter = get_column_letter(values_column)
        values_sheet.cell(row=1, column=values_column, value=name).font = Font(bold=True)
        values_sheet.cell(row=1, column=values_column + 1, value=str(_("meaning"))).font = Font(bold=True)
        for offset, coded in enumerate(options, start=2):
            values_sheet.cell(row=offset, column=values_column, value=coded.written)
            values_sheet.cell(row=offset, column=values_column + 1, value=str(coded.meaning))
        values_sheet.column_dimensions[source_letter].width = 18
        values_sheet.column_dimensions[get_column_letter(values_column + 1)].width = 34
        last = len(options) + 1
        validation = DataValidation(
            type="list",
            formula1=f"=Nilai!${source_letter}$2:${source_letter}${last}",
            allow_blank=False,
            showErrorMessage=True,
            errorTitle=str(_("Not an accepted value")),
            error=str(_('Choose a value from the list (sheet "Nilai").')),
        )
        sheet.add_data_validation(validation)
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        values_column += 3
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.properties.created = datetime.datetime(2026, 1, 1)
    book.save(buffer)
    return buffer.getvalue()
