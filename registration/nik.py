"""NIK (Nomor Induk Kependudukan) rules.

A NIK is ``PPRRSS DDMMYY XXXX``: the district (kecamatan) where it was issued,
the birth date (day + 40 for women) and a serial. ``python-stdnum`` checks the
format and length; the rest is checked here because stdnum's own region table
lacks 30 of today's regencies (Kalimantan Utara, the new Papua provinces) and
knows nothing of districts, and because its birth-date reading prefers 19YY
(a person born in 2004 would be 122 years old). The shipped district table
decides the place; the century is the one that gives a plausible age.

Every failed rule has a stable code (used by ``manage.py nik_check``, the
profile form and the Disnaker import) and its own message.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.id import nik as stdnum_nik

from registration.enums import Gender
from registration.models import District
from registration.regions import district_by_code

MIN_AGE = 18
MAX_AGE = 64

# Stable error codes, with the message shown to people. Messages say what is
# wrong and what to do, in the applicant's language (Indonesian by default).
NIK_ERRORS = {
    "length": _("A NIK has exactly 16 digits. Check the number on your KTP or family card."),
    "not_digits": _("A NIK contains digits only (0-9), without letters or spaces."),
    "unknown_district": _(
        "The first 6 digits of this NIK are not a district (kecamatan) code in Indonesia. "
        "Check for a typing mistake."
    ),
    "bad_date": _("Digits 7 to 12 of this NIK are not a valid date of birth. Check for a typing mistake."),
    "bad_serial": _("The last 4 digits of a NIK cannot be 0000. Check for a typing mistake."),
    "too_young": _("You must be at least 18 years old to register."),
    "too_old": _("The programme is for people aged 18 to 64; you are 65 or older."),
    "gender_mismatch": _(
        "The gender you chose does not match this NIK (for women 40 is added to the day of birth). "
        "Check the NIK and the gender."
    ),
    "birth_date_mismatch": _(
        "The date of birth you entered does not match digits 7 to 12 of this NIK. "
        "Check both against your KTP."
    ),
}


@dataclass
class NikInfo:
    nik: str
    errors: list[str] = field(default_factory=list)
    district_code: str = ""
    province: str = ""
    regency: str = ""
    district: str = ""
    birth_date: datetime.date | None = None
    gender: str = ""

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "errors": list(self.errors),
            "province": self.province or None,
            "regency": self.regency or None,
            "district": self.district or None,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "gender": self.gender or None,
        }


def nik_clean(value: str) -> str:
    """Remove the spaces, dots and dashes people type between digit groups."""
    return stdnum_nik.compact(value or "")


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _birth_date_and_gender(nik: str, today: datetime.date) -> tuple[datetime.date | None, str]:
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if 1 <= day <= 31:
        gender = Gender.MALE
    elif 41 <= day <= 71:
        gender, day = Gender.FEMALE, day - 40
    else:
        return None, ""
    # The century that does not put the birth date in the future.
    century = 2000 if 2000 + year <= today.year else 1900
    try:
        birth_date = datetime.date(century + year, month, day)
    except ValueError:
        return None, ""
    if birth_date > today:
        birth_date = birth_date.replace(year=birth_date.year - 100) if century == 2000 else None
    return birth_date, gender


def nik_parse(value: str, *, today: datetime.date | None = None) -> NikInfo:
    """Check a NIK against every rule that needs no other input."""
    today = today or timezone.localdate()
    nik = nik_clean(value)
    info = NikInfo(nik=nik)
    if not nik:
        info.errors.append("length")
        return info
    try:
        stdnum_nik.validate(nik)
    except stdnum_exceptions.InvalidLength:  # a subclass of InvalidFormat: first
        info.errors.append("length")
        return info
    except stdnum_exceptions.InvalidFormat:
        info.errors.append("not_digits")
        return info
    except stdnum_exceptions.ValidationError:
        # stdnum's date and region checks: ours below are stricter and complete.
        pass

    info.district_code = District.code_from_nik(nik)
    district = district_by_code(info.district_code)
    if district is None:
        info.errors.append("unknown_district")
    else:
        info.district = district.name
        info.regency = district.regency.name
        info.province = district.regency.province.name

    info.birth_date, info.gender = _birth_date_and_gender(nik, today)
    if info.birth_date is None:
        info.errors.append("bad_date")
    else:
        age = age_on(info.birth_date, today)
        if age < MIN_AGE:
            info.errors.append("too_young")
        elif age > MAX_AGE:
            info.errors.append("too_old")
    if nik[12:] == "0000":
        info.errors.append("bad_serial")
    return info


def nik_check_against(info: NikInfo, *, birth_date: datetime.date | None, gender: str | None) -> list[str]:
    """The rules that compare the NIK with what the person typed: extra error codes."""
    errors = []
    if info.birth_date is None:
        return errors
    if gender and info.gender and gender != info.gender:
        errors.append("gender_mismatch")
    if birth_date and birth_date != info.birth_date:
        errors.append("birth_date_mismatch")
    return errors


def nik_error_message(code: str):
    return NIK_ERRORS[code]
