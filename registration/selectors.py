from __future__ import annotations

from registration.models import Applicant


def applicant_for_user(user) -> Applicant | None:
    """The applicant record of a signed-in account, or None (officers, platforms)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Applicant.objects.filter(user=user).select_related("province", "regency", "district").first()
