from __future__ import annotations

from registration.models import Applicant


def applicant_for_user(user) -> Applicant | None:
    """The applicant record of a signed-in account, or None (officers, platforms)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Applicant.objects.filter(user=user)
        .select_related("province", "regency", "district", "exclusion_list")
        .first()
    )


def applicant_for_request(request) -> Applicant | None:
    """``applicant_for_user`` once per request (the dashboard hooks each ask for it)."""
    if not hasattr(request, "_registration_applicant"):
        request._registration_applicant = applicant_for_user(request.user)
    return request._registration_applicant


def applicant_row_of_user(user) -> Applicant | None:
    """The applicant row alone (no regions joined), or None: what the profile form needs.

    ``user`` is unique on the table, so no ordering: building the joined, ordered query
    of ``applicant_for_user`` costs more CPU than the database spends on it.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    rows = list(Applicant.objects.filter(user_id=user.pk)[:1])
    return rows[0] if rows else None
