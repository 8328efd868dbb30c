"""The Disnaker spreadsheet's coded columns: listed on the page, variants accepted, an Excel template."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from registration.enums import Education, EmploymentStatus, Gender
from registration.import_values import coded_value
from tests.registration.factories import disnaker_user


@pytest.mark.parametrize(
    ("column", "raw", "value"),
    [
        ("status_pekerjaan", "tidak_bekerja", EmploymentStatus.NOT_WORKING),
        ("status_pekerjaan", "Tidak Bekerja", EmploymentStatus.NOT_WORKING),
        ("status_pekerjaan", "TIDAK-BEKERJA", EmploymentStatus.NOT_WORKING),
        ("status_pekerjaan", "not_working", EmploymentStatus.NOT_WORKING),
        ("status_pekerjaan", "usaha_mikro", EmploymentStatus.MICRO_BUSINESS),
        ("status_pekerjaan", "Korban PHK", EmploymentStatus.LAID_OFF),
        ("pendidikan", "SMA/SMK", Education.SMA),
        ("pendidikan", "tidak_sekolah", Education.NONE),
        ("jenis_kelamin", "Laki-laki", Gender.MALE),
        ("jenis_kelamin", "p", Gender.FEMALE),
    ],
)
def test_obvious_variants_are_accepted(column, raw, value):
    assert coded_value(column, raw) == value


def test_unknown_values_are_refused():
    assert coded_value("status_pekerjaan", "pensiun") is None
    assert coded_value("pendidikan", "") is None


@pytest.mark.django_db
def test_import_page_lists_the_accepted_values(client):
    client.force_login(disnaker_user("32"))
    html = client.get(reverse("registration:staff_import")).content.decode()
    for text in (
        "<code>status_pekerjaan</code>",
        "<code>tidak bekerja</code>: Tidak bekerja",
        "<code>usaha mikro</code>",
        "<code>pendidikan</code>",
        "<code>SMA</code>",
        "<code>jenis_kelamin</code>",
        reverse("registration:staff_import_template_xlsx"),
    ):
        assert text in html, text


@pytest.mark.django_db
def test_excel_template_offers_the_values_as_drop_downs(client):
    client.force_login(disnaker_user("32"))
    response = client.get(reverse("registration:staff_import_template_xlsx"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Pendaftar"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["nik", "no_kk", "nama"]
    rules = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    column = {name: chr(ord("A") + index) for index, name in enumerate(header)}
    assert rules[f"{column['jenis_kelamin']}2:{column['jenis_kelamin']}5001"] == "=Nilai!$A$2:$A$3"
    assert rules[f"{column['pendidikan']}2:{column['pendidikan']}5001"] == "=Nilai!$D$2:$D$8"
    assert rules[f"{column['status_pekerjaan']}2:{column['status_pekerjaan']}5001"] == "=Nilai!$G$2:$G$7"
    values = book["Nilai"]
    assert [values.cell(row=r, column=7).value for r in range(2, 8)] == [
        "tidak bekerja",
        "phk",
        "dirumahkan",
        "informal",
        "usaha mikro",
        "bekerja",
    ]
    assert sheet["A2"].number_format == "@"
