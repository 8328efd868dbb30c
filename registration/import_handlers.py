"""Row handler of civil-registry records for the spreadsheet pipeline (see import_registry)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from registration.import_registry import RowHandler, import_handler_register
from registration.import_values import coded_value
from registration.imports import Row, RowErrors, parse_date
from registration.nik import nik_clean
from registration.services import CivilRecordInput, civil_records_import, clean_name, name_is_valid

CIVIL_RECORDS = "civil_records"
CIVIL_COLUMNS = ("nik", "no_kk", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin")


def _digits(text: str) -> str:
    text = text.strip()
    if text.endswith(".0"):  # a number a spreadsheet turned into a float
        text = text[:-2]
    return nik_clean(text)


def civil_rows_check(rows: list[Row], errors: RowErrors) -> list[tuple[int, object]]:
    items = []
    for row in rows:
        values = row.values
        ok = True
        nik = _digits(values.get("nik", ""))
        if len(nik) != 16 or not nik.isdigit():
            errors.add(row.number, "nik", _("A NIK has exactly 16 digits (0-9)."))
            ok = False
        kk = _digits(values.get("no_kk", ""))
        if len(kk) != 16 or not kk.isdigit():
            errors.add(row.number, "no_kk", _("A family card (KK) number has exactly 16 digits."))
            ok = False
        name = clean_name(values.get("nama", ""))
        if not name_is_valid(name):
            errors.add(
                row.number, "nama", _("Write the name with letters as on the KTP, without digits or symbols.")
            )
            ok = False
        birth_place = " ".join(values.get("tempat_lahir", "").split())
        if len(birth_place) > 100:
            errors.add(row.number, "tempat_lahir", _("At most 100 characters."))
            ok = False
        birth_date = parse_date(values.get("tanggal_lahir", ""))
        if birth_date is None:
            errors.add(row.number, "tanggal_lahir", _("Write the date as DD-MM-YYYY or YYYY-MM-DD."))
            ok = False
        gender_text = values.get("jenis_kelamin", "").strip()
        gender = (coded_value("jenis_kelamin", gender_text) or "") if gender_text else ""
        if gender_text and not gender:
            errors.add(row.number, "jenis_kelamin", _("Write L (male) or P (female)."))
            ok = False
        if ok:
            items.append(
                (
                    row.number,
                    CivilRecordInput(
                        nik=nik,
                        kk_number=kk,
                        full_name=name,
                        birth_place=birth_place,
                        birth_date=birth_date,
                        gender=gender,
                    ),
                )
            )
    return items


def civil_rows_apply(*, items, actor, errors: RowErrors) -> dict[str, int]:
    return civil_records_import(records=[item for _number, item in items], actor=actor)


def register() -> None:
    import_handler_register(
        RowHandler(
            kind=CIVIL_RECORDS,
            label=pgettext_lazy("import", "Civil registry records"),
            columns=CIVIL_COLUMNS,
            key_columns=("nik",),
            check=civil_rows_check,
            key=lambda item: (item.nik,),
            apply=civil_rows_apply,
            permissions=("registration.add_civilrecord", "registration.change_civilrecord"),
            max_rows=200_000,
            example=("3204055403950001", "3204050101100002", "Siti Nurhaliza", "Bandung", "14-03-1995", "P"),
            notes=_("A row whose NIK is already in the registry updates that record."),
            aliases={"kk": "no_kk", "nomor_kk": "no_kk", "nama_lengkap": "nama"},
        )
    )
