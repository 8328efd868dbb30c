"""NIK rules: a table of valid and invalid numbers, each invalid one with its error code."""

import datetime
import io
import json

import pytest
from django.core.management import call_command

from registration.nik import NIK_ERRORS, nik_check_against, nik_parse

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 22)

NIKS = [
    # (nik, errors, birth date, gender)
    ("3275011403950001", [], "1995-03-14", "M"),
    ("3275015403950002", [], "1995-03-14", "F"),
    ("3275 0114 0395 0001", [], "1995-03-14", "M"),  # spaces as people type them
    ("3275.0114.0395.0001", [], "1995-03-14", "M"),
    ("3204050101000003", [], "2000-01-01", "M"),  # born 2000, not 1900
    ("3275012902000001", [], "2000-02-29", "M"),  # a leap day
    ("3275017101900001", [], "1990-01-31", "F"),  # day 31 + 40
    ("6501012512880001", [], "1988-12-25", "M"),  # Kalimantan Utara: unknown to stdnum's own table
    ("3275012211080001", [], "2008-11-22", "M"),  # 18 today
    ("3275012311610001", [], "1961-11-23", "M"),  # 64 until tomorrow
    ("3275012311080001", ["too_young"], "2008-11-23", "M"),  # 18 tomorrow
    ("3275012211610001", ["too_old"], "1961-11-22", "M"),  # 65 today
    ("3171011708450001", ["too_old"], "1945-08-17", "M"),
    ("3275011403300001", ["too_old"], "1930-03-14", "M"),  # '30 is not in the future: 1930
    ("3275010001900001", ["bad_date"], None, None),  # day 00
    ("3275013201900001", ["bad_date"], None, None),  # day 32
    ("3275017201900001", ["bad_date"], None, None),  # day 72 (32 + 40)
    ("3275011413900001", ["bad_date"], None, None),  # month 13
    ("3275013002900001", ["bad_date"], None, None),  # 30 February
    ("3275012902900001", ["bad_date"], None, None),  # 29 February 1990
    ("9999011403950001", ["unknown_district"], "1995-03-14", "M"),
    ("3275991403950001", ["unknown_district"], "1995-03-14", "M"),  # regency exists, district does not
    ("3275011403950000", ["bad_serial"], "1995-03-14", "M"),
    ("9999013201900000", ["unknown_district", "bad_date", "bad_serial"], None, None),
    ("327501140395000", ["length"], None, None),
    ("32750114039500011", ["length"], None, None),
    ("", ["length"], None, None),
    ("32750114039500AB", ["not_digits"], None, None),
    ("3275O11403950001", ["not_digits"], None, None),  # letter O for zero
]


@pytest.mark.parametrize(("nik", "errors", "birth_date", "gender"), NIKS)
def test_nik_rules(nik, errors, birth_date, gender):
    info = nik_parse(nik, today=TODAY)
    assert info.errors == errors
    assert info.valid is (errors == [])
    assert (info.birth_date.isoformat() if info.birth_date else None) == birth_date
    assert (info.gender or None) == gender


def test_table_has_at_least_20_numbers_with_every_error_code():
    assert len(NIKS) >= 20
    codes = {code for _nik, errors, _b, _g in NIKS for code in errors}
    assert codes == {
        "length",
        "not_digits",
        "unknown_district",
        "bad_date",
        "too_young",
        "too_old",
        "bad_serial",
    }


def test_region_names_come_from_the_district_table():
    info = nik_parse("3275011403950001", today=TODAY)
    assert (info.province, info.regency, info.district) == ("Jawa Barat", "Kota Bekasi", "Bekasi Timur")


def test_typed_gender_and_birth_date_must_agree_with_the_nik():
    info = nik_parse("3275015403950002", today=TODAY)  # a woman born 14-03-1995
    assert nik_check_against(info, birth_date=datetime.date(1995, 3, 14), gender="F") == []
    assert nik_check_against(info, birth_date=datetime.date(1995, 3, 14), gender="M") == ["gender_mismatch"]
    assert nik_check_against(info, birth_date=datetime.date(1995, 4, 14), gender="F") == [
        "birth_date_mismatch"
    ]


def test_every_rule_has_its_own_indonesian_message():
    from django.utils import translation

    with translation.override("id"):
        messages = {code: str(message) for code, message in NIK_ERRORS.items()}
    assert len(set(messages.values())) == len(messages)
    assert (
        messages["length"]
        == "NIK terdiri dari tepat 16 digit. Periksa nomor pada KTP atau Kartu Keluarga Anda."
    )
    assert messages["too_young"] == "Anda harus berusia minimal 18 tahun untuk mendaftar."


def test_nik_check_command_prints_one_json_object():
    out = io.StringIO()
    call_command("nik_check", "3275015403950002", stdout=out)
    assert json.loads(out.getvalue()) == {
        "valid": True,
        "errors": [],
        "province": "Jawa Barat",
        "regency": "Kota Bekasi",
        "district": "Bekasi Timur",
        "birth_date": "1995-03-14",
        "gender": "F",
    }


def test_nik_check_command_reports_error_codes():
    out = io.StringIO()
    call_command("nik_check", "9999013201900000", stdout=out)
    assert json.loads(out.getvalue()) == {
        "valid": False,
        "errors": ["unknown_district", "bad_date", "bad_serial"],
        "province": None,
        "regency": None,
        "district": None,
        "birth_date": None,
        "gender": None,
    }
