"""Independent monitoring institutions: read-only, aggregated, pseudonymised data with audited downloads.

A monitor is an account in the "Monitoring Institution" role with a ``MonitorAccess`` row whose end
date an officer sets. Until that date (inclusive) the monitor reads the datasets below, built from
the summary tables (``oversight/summary.py``) with every cell under ``SUPPRESS_BELOW`` people
suppressed, and the published draw files of announced waves (tokens only, cohorts/draw.py). No NIK,
no name, no account number. Every download writes an audit entry.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorts import draw
from cohorts.models import Wave
from oversight import summary
from oversight.models import MonitorAccess
from oversight.programme_stats import PUBLIC_TABLES, public_rows, suppress
from prakerja.audit import audit_log
from prakerja.roles import Role
from registration.models import Province

MONITOR_PERMISSION = "oversight.use_monitoring"


class MonitorError(Exception):
    def __init__(self, message, code: str = "refused"):
        super().__init__(str(message))
        self.message = message
        self.code = code


# --- Access -------------------------------------------------------------------------------------------


def monitor_access_set(
    *, access_id: int | None, user, institution: str, expires_on: datetime.date, actor
) -> MonitorAccess:
    """Grant a monitor access, or change its institution or end date (locked); audited before/after.

    The account must be in the Monitoring Institution role and hold no other role or staff powers
    beyond it, so monitoring access never widens an officer's reach.
    """
    institution = " ".join((institution or "").split())
    if not institution:
        raise MonitorError(_("Name the monitoring institution."), code="institution")
    if not isinstance(expires_on, datetime.date):
        raise MonitorError(_("Give the date the access ends."), code="expires_on")
    groups = set(user.groups.values_list("name", flat=True))
    if Role.MONITOR.value not in groups or groups - {Role.MONITOR.value} or user.is_superuser:
        raise MonitorError(
            _("The account must have the Monitoring Institution role and no other role."), code="role"
        )
    with transaction.atomic():
        if access_id is None:
            if MonitorAccess.objects.filter(user=user).exists():
                raise MonitorError(_("This account already has monitoring access."), code="exists")
            access = MonitorAccess.objects.create(
                user=user, institution=institution, expires_on=expires_on, granted_by=actor
            )
            changes = {"institution": [None, institution], "expires_on": [None, expires_on.isoformat()]}
            action = "oversight.monitor_access_granted"
        else:
            access = MonitorAccess.objects.select_for_update().get(pk=access_id)
            changes = {}
            if access.user_id != user.pk:
                raise MonitorError(_("The account of an access cannot change."), code="user")
            if access.institution != institution:
                changes["institution"] = [access.institution, institution]
            if access.expires_on != expires_on:
                changes["expires_on"] = [access.expires_on.isoformat(), expires_on.isoformat()]
            if not changes:
                return access
            access.institution, access.expires_on = institution, expires_on
            access.save(update_fields=["institution", "expires_on", "updated_at"])
            action = "oversight.monitor_access_changed"
        audit_log(actor=actor, action=action, obj=access, data={"user": user.pk, "changes": changes})
    return access


def monitor_access_for(user, *, today: datetime.date | None = None) -> MonitorAccess | None:
    """The user's monitoring access if it is in force today, else None."""
    if not (user.is_authenticated and user.is_active and user.has_perm(MONITOR_PERMISSION)):
        return None
    access = MonitorAccess.objects.filter(user=user).first()
    if access is None or not access.is_active(today or timezone.localdate()):
        return None
    return access


def monitor_download_record(*, user, access: MonitorAccess, dataset: str, rows: int) -> None:
    audit_log(
        actor=user,
        action="oversight.monitor_download",
        obj=access,
        data={"institution": access.institution, "dataset": dataset, "rows": rows},
    )


# --- Datasets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    columns: tuple[str, ...]
    build: Callable[[], list[list]]


def _public_table(slug: str) -> Callable[[], list[list]]:
    spec = PUBLIC_TABLES[slug]

    def build() -> list[list]:
        return [[row["code"], row["label"], *[row[m] for m in spec.metrics]] for row in public_rows(spec)]

    return build


def _funnel_by_province() -> list[list]:
    names = dict(Province.objects.values_list("code", "name"))
    table = summary.summary_table("funnel")
    stages = [stage for stage in summary.FUNNEL if stage not in summary.ACCOUNT_STAGES]
    return [
        [code, name, *[suppress(table.get(code, {}).get(stage, 0)) for stage in stages]]
        for code, name in sorted(names.items())
    ]


def _funnel_by_wave() -> list[list]:
    table = summary.summary_table("funnel_wave")
    return [
        [number, *[suppress(values.get(stage, 0)) for stage in summary.WAVE_STAGES]]
        for number, values in sorted(table.items(), key=lambda item: int(item[0] or 0))
    ]


def _dropout_by_province() -> list[list]:
    names = dict(Province.objects.values_list("code", "name"))
    table = summary.summary_table("dropout")
    rows = [
        ["", str(_("Whole programme")), *[suppress(table.get("", {}).get(k, 0)) for k in summary.DROPOUT]]
    ]
    rows += [
        [code, name, *[suppress(table.get(code, {}).get(key, 0)) for key in summary.DROPOUT]]
        for code, name in sorted(names.items())
    ]
    return rows


def datasets() -> dict[str, Dataset]:
    found = {
        "funnel-per-provinsi": Dataset(
            "funnel-per-provinsi",
            str(_("Funnel by province")),
            (
                "province_code",
                "province",
                *[stage for stage in summary.FUNNEL if stage not in summary.ACCOUNT_STAGES],
            ),
            _funnel_by_province,
        ),
        "funnel-per-gelombang": Dataset(
            "funnel-per-gelombang",
            str(_("Funnel by wave")),
            ("wave", *summary.WAVE_STAGES),
            _funnel_by_wave,
        ),
        "alasan-gugur-per-provinsi": Dataset(
            "alasan-gugur-per-provinsi",
            str(_("Drop-out reasons by province")),
            ("province_code", "province", *summary.DROPOUT),
            _dropout_by_province,
        ),
    }
    for slug, spec in PUBLIC_TABLES.items():
        found[slug] = Dataset(slug, str(spec.title), ("code", "label", *spec.metrics), _public_table(slug))
    return found


def draw_files() -> list[Wave]:
    """Announced waves whose draw file is published (pseudonymised: tokens, no NIK or names)."""
    return [wave for wave in draw.waves_public() if draw.draw_is_public(wave)]
