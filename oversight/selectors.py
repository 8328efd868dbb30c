"""Who sees which complaints."""

from __future__ import annotations

from django.db.models import QuerySet

from oversight.enums import ComplaintCategory
from oversight.models import Complaint
from prakerja.roles import Role

# The categories each officer role handles. Programme officers (and superusers) see every category.
ROLE_CATEGORIES: dict[str, set[str]] = {
    Role.KYC_REVIEWER: {ComplaintCategory.KYC, ComplaintCategory.NIK_MISUSE, ComplaintCategory.REGISTRATION},
    Role.FINANCE_OFFICER: {ComplaintCategory.PAYOUT, ComplaintCategory.PURCHASE},
    Role.DISNAKER_STAFF: {
        ComplaintCategory.REGISTRATION,
        ComplaintCategory.SELECTION,
        ComplaintCategory.TRAINING,
        ComplaintCategory.OTHER,
    },
}


def staff_categories(user) -> set[str] | None:
    """The categories ``user`` handles; None means all of them."""
    if user.is_superuser:
        return None
    groups = set(user.groups.values_list("name", flat=True))
    if Role.PROGRAMME_OFFICER in groups:
        return None
    categories: set[str] = set()
    for role, allowed in ROLE_CATEGORIES.items():
        if role in groups:
            categories |= allowed
    return categories


def complaints_visible_to(user) -> QuerySet[Complaint]:
    """Complaints an officer may see: by permission, by their role's categories, Disnaker by province.

    Unconfirmed NIK-misuse reports (no SMS code yet) are nobody's work and stay hidden.
    """
    if not (user.is_active and user.is_staff and user.has_perm("oversight.view_complaint")):
        return Complaint.objects.none()
    queryset = Complaint.objects.exclude(status="unconfirmed")
    categories = staff_categories(user)
    if categories is not None:
        queryset = queryset.filter(category__in=categories)
    if not user.is_superuser and user.groups.filter(name=Role.DISNAKER_STAFF).exists():
        staff = getattr(user, "disnaker", None)  # registration.DisnakerStaff: the officer's province
        queryset = queryset.filter(province_id=staff.province_id) if staff else queryset.none()
    return queryset


def complaints_of(user) -> QuerySet[Complaint]:
    """The person's own complaints."""
    return Complaint.objects.filter(reporter=user).exclude(status="unconfirmed")
