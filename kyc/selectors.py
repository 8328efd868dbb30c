"""Reads other apps may use. ``kyc_is_verified`` is the contract with the waves app."""

from __future__ import annotations

from kyc.enums import CaseStatus
from kyc.models import KycCase


def kyc_is_verified(applicant) -> bool:
    """True when the applicant's face check is verified (by the system or a reviewer)."""
    if applicant is None or applicant.pk is None:
        return False
    return KycCase.objects.filter(applicant=applicant, status=CaseStatus.VERIFIED).exists()


def kyc_case_for(applicant) -> KycCase | None:
    """The applicant's case with its latest submission, or None before the first upload."""
    if applicant is None or applicant.pk is None:
        return None
    return KycCase.objects.select_related("latest_submission").filter(applicant=applicant).first()


def kyc_verified_applicants_sql() -> tuple[str, dict[str, str]]:
    """A SQL query of the ids (``applicant_id``) of the KYC-verified applicants, and its params.

    The set-based twin of ``kyc_is_verified`` for the waves app's selection SQL: the one place
    outside kyc that knows the table and the status value. An applicant has at most one case
    (``KycCase.applicant`` is one-to-one), so each id appears at most once and the query can be
    joined to one row per applicant.
    """
    sql = f"SELECT kc.applicant_id FROM {KycCase._meta.db_table} kc WHERE kc.status = %(kyc_verified)s"  # noqa: S608 - identifiers from code
    return sql, {"kyc_verified": CaseStatus.VERIFIED.value}
