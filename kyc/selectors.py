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
