"""Officer roles: Django groups and the permissions each one carries.

This module is the single source of truth. ``roles_sync`` runs in a data
migration and again after every ``migrate`` so that permissions added by later
migrations reach the groups without hand work. Patterns use fnmatch syntax on
``app_label.codename``; patterns that match nothing yet are fine.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PROGRAMME_OFFICER = "Programme Officer", _("Programme Officer")
    KYC_REVIEWER = "KYC Reviewer", _("KYC Reviewer")
    FINANCE_OFFICER = "Finance Officer", _("Finance Officer")
    DISNAKER_STAFF = "Disnaker Staff", _("Disnaker Staff")
    PLATFORM = "Platform", _("Platform (API client)")
    ASSESSOR = "Competency Assessor", _("Competency Assessor")
    KEMNAKER_OFFICER = "Kemnaker Officer", _("Kemnaker Officer")
    MONITOR = "Monitoring Institution", _("Monitoring Institution")


ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.PROGRAMME_OFFICER: [
        "prakerja.view_auditentry",
        "prakerja.view_notification",
        "prakerja.view_user",
        "registration.*",
        "cohorts.*",
        "marketplace.*",
        "surveys.*",
        "employment.*",
        "oversight.*",
        "kyc.view_*",
        "disbursement.view_*",
    ],
    Role.KYC_REVIEWER: [
        "registration.view_applicant",
        "kyc.*",
        "oversight.view_complaint",
        "oversight.handle_complaint",
        "oversight.view_programme_dashboard",
    ],
    Role.FINANCE_OFFICER: [
        "prakerja.view_auditentry",
        "disbursement.*",
        "disbursement.view_full_account_number",
        "cohorts.view_*",
        "marketplace.view_*",
        "registration.view_applicant",
        "oversight.view_complaint",
        "oversight.handle_complaint",
        "oversight.view_programme_dashboard",
    ],
    Role.DISNAKER_STAFF: [
        "registration.view_applicant",
        "registration.add_applicant",
        "registration.change_applicant",
        "registration.register_offline",
        "registration.view_province",
        "registration.view_regency",
        "registration.view_district",
        "oversight.view_complaint",
        "oversight.handle_complaint",
        "oversight.view_programme_dashboard",
    ],
    Role.PLATFORM: [
        "marketplace.use_platform_api",
    ],
    # An accredited assessor institution's staff: results for its own trainings only
    # (marketplace.services.assessment_record checks the institution).
    Role.ASSESSOR: [
        "marketplace.view_competencyassessment",
        "marketplace.add_competencyassessment",
    ],
    # National: reviews the offline registrations Disnaker offices send (registration/kemnaker.py).
    Role.KEMNAKER_OFFICER: [
        "registration.review_offlinesubmission",
        "registration.view_offlinesubmission",
        "registration.view_offlinesubmissionitem",
    ],
    # Independent monitors: read-only, aggregated and pseudonymised data only (oversight/monitoring.py),
    # while the access an officer granted has not expired.
    Role.MONITOR: [
        "oversight.use_monitoring",
    ],
}

# Permissions no pattern may grant implicitly: they must be named exactly.
EXPLICIT_ONLY = {
    "registration.view_full_nik",
    "disbursement.delete_ledgerentry",
    "disbursement.view_full_account_number",
    "prakerja.delete_auditentry",
    # Kemnaker's approval and the monitors' pages belong to those roles, not to "registration.*" etc.
    "registration.review_offlinesubmission",
    "oversight.use_monitoring",
}


def permissions_for(role: str, all_permissions: list[tuple[int, str]]) -> list[int]:
    patterns = ROLE_PERMISSIONS[role]
    ids = []
    for perm_id, name in all_permissions:
        if name in EXPLICIT_ONLY and name not in patterns:
            continue
        if any(fnmatchcase(name, pattern) for pattern in patterns):
            ids.append(perm_id)
    return ids


def roles_sync(group_model, permission_model) -> None:
    """Create the role groups and set their permissions from ROLE_PERMISSIONS."""
    all_permissions = [
        (pk, f"{app_label}.{codename}")
        for pk, app_label, codename in permission_model.objects.values_list(
            "id", "content_type__app_label", "codename"
        )
    ]
    for role in Role:
        group, _created = group_model.objects.get_or_create(name=role.value)
        group.permissions.set(permissions_for(role.value, all_permissions))


def user_has_role(user, role: str) -> bool:
    return user.is_authenticated and user.groups.filter(name=role).exists()
