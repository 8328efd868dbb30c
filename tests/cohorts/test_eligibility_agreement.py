"""The eligibility rules are written twice: in Python (``applicant_eligibility`` and
``wave_join_check``, asked when someone joins) and in the selection's SQL (asked of every
pending application when the wave is drawn). These tests build one applicant per rule,
break exactly that rule after joining, and require both definitions to agree.
"""

import pytest
from django.db import connection

from cohorts import selection
from cohorts.models import Application, Blacklist
from cohorts.services import wave_join_check
from kyc.models import KycCase
from registration.services import CIVIL_REASONS
from tests.cohorts.factories import WaveFactory, verified_applicant
from tests.marketplace.factories import participant_with_balance

pytestmark = pytest.mark.django_db

# Python reason code -> the selection's reason code for the same rule.
SQL_REASON = {
    "participant": "participant",
    "blacklisted": "blacklisted",
    "excluded": "excluded",
    "frozen": "frozen",
    "kemnaker_pending": "kemnaker_pending",
    "civil_not_checked": "nik_not_verified",
    "civil_pending": "nik_not_verified",
    "civil_mismatch": "nik_not_verified",
    "civil_not_found": "nik_not_verified",
    "kyc_not_verified": "kyc_not_verified",
}
# Rules checked only when someone joins: the selection takes the accepted application as it is.
JOIN_ONLY = {
    "no_profile",
    "profile_incomplete",
    "phone_unverified",
    "too_young",
    "too_old",
    "no_open_wave",
    "already_joined",
    "pending_elsewhere",
}


def _break_civil(status):
    def breaker(applicant):
        applicant.civil_status = status
        applicant.save(update_fields=["civil_status"])

    return breaker


def _exclude(applicant):
    applicant.is_excluded, applicant.exclusion_reason = True, "ASN"
    applicant.save(update_fields=["is_excluded", "exclusion_reason"])


def _freeze(applicant):
    from registration.services import applicant_freeze

    applicant_freeze(applicant=applicant, reason="laporan penyalahgunaan NIK")


def _kemnaker_hold(applicant):
    applicant.kemnaker_status, applicant.kemnaker_hold = "waiting", True
    applicant.save(update_fields=["kemnaker_status", "kemnaker_hold"])


BREAKERS = {
    "excluded": _exclude,
    "frozen": _freeze,
    "kemnaker_pending": _kemnaker_hold,
    "blacklisted": lambda applicant: Blacklist.objects.create(applicant=applicant, reason="dicabut"),
    "kyc_not_verified": lambda applicant: KycCase.objects.filter(applicant=applicant).update(status="review"),
    **{f"civil:{status}": _break_civil(status) for status in CIVIL_REASONS},
}


def _joined(wave, applicant):
    return Application.objects.create(
        wave=wave,
        applicant=applicant,
        province_id=applicant.province_id,
        kk_number=applicant.kk_number,
        is_priority=applicant.is_priority,
    )


def _sql_reasons(wave) -> dict[int, str | None]:
    """The selection's first reason per pending application (None: eligible)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.applicant_id, ({selection._ineligible_case()})
            FROM {selection._eligibility_from()}
            WHERE a.wave_id = %(wave)s AND a.status = %(pending)s
            """,  # noqa: S608 - identifiers from model metadata
            selection._base_params(wave, "x"),
        )
        return dict(cursor.fetchall())


def _python_reasons(applicant) -> set[str]:
    codes = {reason.code for reason in wave_join_check(applicant=applicant, wave=None).reasons}
    return codes - JOIN_ONLY


def test_python_and_sql_agree_on_every_reason():
    wave = WaveFactory()
    cases = {}
    for name, breaker in BREAKERS.items():
        applicant = verified_applicant()
        _joined(wave, applicant)
        breaker(applicant)
        applicant.refresh_from_db()
        cases[name] = applicant
    participant = participant_with_balance(wave=WaveFactory(status="announced"))
    KycCase.objects.create(applicant=participant.applicant, status="verified")
    _joined(wave, participant.applicant)
    cases["participant"] = participant.applicant
    eligible = verified_applicant()
    _joined(wave, eligible)

    sql = _sql_reasons(wave)
    seen_python = set()
    for name, applicant in cases.items():
        python = _python_reasons(applicant)
        assert len(python) == 1, (name, python)
        (code,) = python
        seen_python.add(code)
        assert sql[applicant.pk] == SQL_REASON[code], (name, code, sql[applicant.pk])
    assert _python_reasons(eligible) == set()
    assert sql[eligible.pk] is None
    # Every rule of either side was exercised: a new rule on one side fails here.
    assert seen_python == set(SQL_REASON)
    assert {code for code, _condition in selection.INELIGIBLE_CONDITIONS} == set(SQL_REASON.values())
    assert {code for code, _message in CIVIL_REASONS.values()} | {
        "participant",
        "blacklisted",
        "excluded",
        "frozen",
        "kemnaker_pending",
        "kyc_not_verified",
    } == set(SQL_REASON)


def test_the_selection_reads_kyc_through_its_selector():
    """The SQL condition comes from kyc.selectors, the same status kyc_is_verified uses."""
    from kyc.enums import CaseStatus
    from kyc.selectors import kyc_verified_applicants_sql

    sql, params = kyc_verified_applicants_sql()
    assert params == {"kyc_verified": CaseStatus.VERIFIED.value}
    assert KycCase._meta.db_table in sql
    assert sql == selection.KYC_VERIFIED_APPLICANTS_SQL
    assert sql in selection._eligibility_from()
    assert selection._base_params(WaveFactory(), "x")["kyc_verified"] == CaseStatus.VERIFIED.value
    assert not hasattr(selection, "KYC_VERIFIED")  # no hard-coded copy of kyc's status
