from __future__ import annotations

from prakerja.prepared import RowReader
from registration.models import Applicant

# ``user`` is unique: at most one row, no ordering. Statements written once (prakerja.prepared).
_applicant_of_user = RowReader(Applicant, [("user", "exact")], limit=1)
_applicant_of_user_locked = RowReader(Applicant, [("user", "exact")], limit=1, for_update=True)


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
    return _applicant_of_user.first(user.pk)


def applicant_row_of_user_for_update(user) -> Applicant | None:
    """``applicant_row_of_user``, the row locked (``SELECT ... FOR UPDATE``); inside a transaction."""
    return _applicant_of_user_locked.first(user.pk)
