"""The programme's numbers: summary tables rebuilt set-based, read by the dashboard and /statistik/.

``summary_refresh`` runs a fixed number of GROUP BY queries (whatever the number of
applicants) and replaces every ``SummaryCount`` row in one transaction, so readers see
either the old numbers or the new ones. Pages never count the big tables themselves.

Tables (``SummaryCount.table``), each row a (group, metric, value):
- ``funnel``: group "" (the whole programme) or a province code; metric a FUNNEL stage.
- ``funnel_wave``: group a wave number; metric a stage from ``joined_wave`` on.
- ``dropout``: group "" or a province code; metric a DROPOUT reason.
- ``amounts``: group "" or a province code; metric ``incentive_paid_rp`` / ``purchases_rp``.
- ``recipients_*``: participants by province, regency, gender, age band, education, employment.
- ``catalog``: platforms, providers, trainings listed; trainings completed.
- ``surveys``: group a survey number; ``opened`` (windows open so far) and ``submitted``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorts.enums import ApplicationStatus, ParticipantStatus
from cohorts.models import Application, Participant
from disbursement.enums import EntitlementStatus
from disbursement.models import Entitlement
from kyc.models import KycCase
from marketplace.models import Completion, Platform, Provider, Training, Voucher
from oversight.models import SummaryCount
from registration.enums import CivilRegistryStatus
from registration.models import Applicant
from surveys.models import Rating, SurveyAssignment

# The lifecycle, in order, with a label for the dashboard and the public page.
FUNNEL = {
    "registered": _("Accounts registered"),
    "email_verified": _("Email verified (or registered offline)"),
    "profile_complete": _("Profile complete"),
    "nik_verified": _("NIK verified"),
    "kyc_verified": _("Identity (KYC) verified"),
    "joined_wave": _("Joined a wave"),
    "selected": _("Selected"),
    "participant": _("Participants"),
    "bought": _("Bought a training"),
    "completed": _("Completed a training"),
    "rated": _("Rated the training"),
    "incentive_paid": _("Received an incentive"),
}
ACCOUNT_STAGES = ("registered", "email_verified")  # before a profile there is no province
WAVE_STAGES = ("joined_wave", "selected", "participant", "bought", "completed", "rated", "incentive_paid")

DROPOUT = {
    "civil_not_found": _("NIK not found in the civil registry"),
    "civil_mismatch": _("Data does not match the civil registry"),
    "excluded": _("On an exclusion list"),
    "kyc_rejected": _("Identity check rejected"),
    "kyc_review": _("Identity check waiting for an officer"),
    "not_selected": _("Not selected in the draw"),
    "ineligible_at_selection": _("Ruled out at selection"),
    "revoked": _("Revoked for not buying a training in time"),
    "frozen": _("On hold after a NIK-misuse report"),
    "kemnaker_pending": _("Offline registration waiting for Kemnaker"),
}

AGE_BANDS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64))


def _age_band(birth_year: int, year: int) -> str:
    age = year - birth_year
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "other"


def _applicant_flags():
    """Applicants annotated with one boolean per stage: one scan, correlated EXISTS subqueries."""
    participant = Participant.objects.filter(applicant=OuterRef("pk"))
    return Applicant.objects.annotate(
        s_kyc=Exists(KycCase.objects.filter(applicant=OuterRef("pk"), status="verified")),
        s_joined=Exists(Application.objects.filter(applicant=OuterRef("pk"))),
        s_selected=Exists(
            Application.objects.filter(applicant=OuterRef("pk"), status=ApplicationStatus.SELECTED)
        ),
        s_participant=Exists(participant),
        s_bought=Exists(participant.filter(first_purchase_at__isnull=False)),
        s_completed=Exists(Completion.objects.filter(participant__applicant=OuterRef("pk"))),
        s_rated=Exists(Rating.objects.filter(owner=OuterRef("user_id"), completion__isnull=False)),
        s_paid=Exists(Entitlement.objects.filter(owner=OuterRef("user_id"), status=EntitlementStatus.PAID)),
    )


STAGE_AGGREGATES = {
    "profile_complete": Count("pk", filter=Q(profile_completed_at__isnull=False)),
    "nik_verified": Count("pk", filter=Q(civil_status=CivilRegistryStatus.VERIFIED)),
    "kyc_verified": Count("pk", filter=Q(s_kyc=True)),
    "joined_wave": Count("pk", filter=Q(s_joined=True)),
    "selected": Count("pk", filter=Q(s_selected=True)),
    "participant": Count("pk", filter=Q(s_participant=True)),
    "bought": Count("pk", filter=Q(s_bought=True)),
    "completed": Count("pk", filter=Q(s_completed=True)),
    "rated": Count("pk", filter=Q(s_rated=True)),
    "incentive_paid": Count("pk", filter=Q(s_paid=True)),
}

DROPOUT_AGGREGATES = {
    "civil_not_found": Count("pk", filter=Q(civil_status=CivilRegistryStatus.NOT_FOUND)),
    "civil_mismatch": Count("pk", filter=Q(civil_status=CivilRegistryStatus.MISMATCH)),
    "excluded": Count("pk", filter=Q(is_excluded=True)),
    "kyc_rejected": Count("pk", filter=Q(kyc_case__status="rejected")),
    "kyc_review": Count("pk", filter=Q(kyc_case__status="review")),
    "frozen": Count("pk", filter=Q(frozen_at__isnull=False)),
    "kemnaker_pending": Count("pk", filter=Q(kemnaker_hold=True)),
}


def _rows_from_groups(table: str, groups: list[dict], group_field: str | None, metrics) -> list[SummaryCount]:
    rows = []
    for item in groups:
        # "" is the whole programme; rows without a province (an unfinished profile) group under "-".
        group = (
            "" if group_field is None else str(item[group_field] if item[group_field] is not None else "-")
        )
        for metric in metrics:
            rows.append(SummaryCount(table=table, group=group, metric=metric, value=int(item[metric] or 0)))
    return rows


def _funnel_rows() -> list[SummaryCount]:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_staff=False)
    rows = [
        SummaryCount(table="funnel", group="", metric="registered", value=users.count()),
        # A profile can only be completed after the email is verified; offline registrants have none.
        SummaryCount(
            table="funnel",
            group="",
            metric="email_verified",
            value=users.filter(
                Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True))
                | Q(applicant__profile_completed_at__isnull=False)
            ).count(),
        ),
    ]
    flags = _applicant_flags()
    overall = flags.aggregate(**STAGE_AGGREGATES)
    rows += _rows_from_groups("funnel", [overall], None, STAGE_AGGREGATES)
    by_province = list(flags.values("province_id").annotate(**STAGE_AGGREGATES).order_by())
    rows += _rows_from_groups("funnel", by_province, "province_id", STAGE_AGGREGATES)

    dropout_overall = Applicant.objects.aggregate(**DROPOUT_AGGREGATES)
    rows += _rows_from_groups("dropout", [dropout_overall], None, DROPOUT_AGGREGATES)
    dropout_province = list(Applicant.objects.values("province_id").annotate(**DROPOUT_AGGREGATES).order_by())
    rows += _rows_from_groups("dropout", dropout_province, "province_id", DROPOUT_AGGREGATES)

    # Wave-level drop-outs: not selected, ruled out, revoked.
    for group_field, source in (
        (None, Application.objects.all()),
        ("applicant__province_id", Application.objects.values("applicant__province_id")),
    ):
        aggregates = {
            "not_selected": Count("pk", filter=Q(status=ApplicationStatus.NOT_SELECTED)),
            "ineligible_at_selection": Count("pk", filter=Q(status=ApplicationStatus.INELIGIBLE)),
        }
        if group_field is None:
            rows += _rows_from_groups("dropout", [source.aggregate(**aggregates)], None, aggregates)
        else:
            rows += _rows_from_groups(
                "dropout", list(source.annotate(**aggregates).order_by()), group_field, aggregates
            )
    revoked = {"revoked": Count("pk", filter=Q(status=ParticipantStatus.REVOKED))}
    rows += _rows_from_groups("dropout", [Participant.objects.aggregate(**revoked)], None, revoked)
    rows += _rows_from_groups(
        "dropout",
        list(Participant.objects.values("applicant__province_id").annotate(**revoked).order_by()),
        "applicant__province_id",
        revoked,
    )
    return rows


def _wave_rows() -> list[SummaryCount]:
    """Per wave: the applicants who joined it and how far they got."""
    participant = Participant.objects.filter(applicant=OuterRef("applicant"))
    applications = Application.objects.annotate(
        s_participant=Exists(participant.filter(wave=OuterRef("wave"))),
        s_bought=Exists(participant.filter(wave=OuterRef("wave"), first_purchase_at__isnull=False)),
        s_completed=Exists(
            Completion.objects.filter(
                participant__applicant=OuterRef("applicant"), participant__wave=OuterRef("wave")
            )
        ),
        s_rated=Exists(
            Rating.objects.filter(
                owner=OuterRef("applicant__user_id"),
                completion__participant__wave=OuterRef("wave"),
            )
        ),
        s_paid=Exists(
            Entitlement.objects.filter(owner=OuterRef("applicant__user_id"), status=EntitlementStatus.PAID)
        ),
    )
    aggregates = {
        "joined_wave": Count("pk"),
        "selected": Count("pk", filter=Q(status=ApplicationStatus.SELECTED)),
        "participant": Count("pk", filter=Q(s_participant=True)),
        "bought": Count("pk", filter=Q(s_bought=True)),
        "completed": Count("pk", filter=Q(s_completed=True)),
        "rated": Count("pk", filter=Q(s_rated=True)),
        "incentive_paid": Count("pk", filter=Q(s_paid=True, s_participant=True)),
    }
    groups = list(applications.values("wave__number").annotate(**aggregates).order_by())
    return _rows_from_groups("funnel_wave", groups, "wave__number", aggregates)


def _amount_rows() -> list[SummaryCount]:
    paid = Entitlement.objects.filter(status=EntitlementStatus.PAID)
    rows = [
        SummaryCount(
            table="amounts",
            group="",
            metric="incentive_paid_rp",
            value=paid.aggregate(v=Sum("amount"))["v"] or 0,
        )
    ]
    by_province = paid.values("owner__applicant__province_id").annotate(v=Sum("amount")).order_by()
    rows += [
        SummaryCount(
            table="amounts",
            group=item["owner__applicant__province_id"] or "-",
            metric="incentive_paid_rp",
            value=item["v"],
        )
        for item in by_province
    ]
    return rows


def _recipient_rows(today: datetime.date) -> list[SummaryCount]:
    participants = Participant.objects.all()
    rows = []
    for table, field in (
        ("recipients_province", "applicant__province_id"),
        ("recipients_regency", "applicant__regency_id"),
        ("recipients_gender", "applicant__gender"),
        ("recipients_education", "applicant__education"),
        ("recipients_employment", "applicant__employment_status"),
    ):
        for item in participants.values(field).annotate(n=Count("pk")).order_by():
            rows.append(
                SummaryCount(table=table, group=item[field] or "-", metric="participants", value=item["n"])
            )
    bands: dict[str, int] = defaultdict(int)
    for item in (
        participants.annotate(year=ExtractYear("applicant__birth_date"))
        .values("year")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        bands[_age_band(item["year"], today.year) if item["year"] else "other"] += item["n"]
    rows += [
        SummaryCount(table="recipients_age", group=band, metric="participants", value=n)
        for band, n in bands.items()
    ]
    completed = (
        Completion.objects.values("participant__applicant__province_id").annotate(n=Count("pk")).order_by()
    )
    rows += [
        SummaryCount(
            table="recipients_province",
            group=item["participant__applicant__province_id"] or "-",
            metric="trainings_completed",
            value=item["n"],
        )
        for item in completed
    ]
    return rows


def _catalog_rows() -> list[SummaryCount]:
    return [
        SummaryCount(table="catalog", group="", metric="platforms", value=Platform.objects.count()),
        SummaryCount(table="catalog", group="", metric="providers", value=Provider.objects.count()),
        SummaryCount(table="catalog", group="", metric="trainings", value=Training.objects.count()),
        SummaryCount(table="catalog", group="", metric="vouchers", value=Voucher.objects.count()),
        SummaryCount(
            table="catalog", group="", metric="trainings_completed", value=Completion.objects.count()
        ),
    ]


def _survey_rows(today: datetime.date) -> list[SummaryCount]:
    """Per evaluation survey: people whose window has opened, and those who answered."""
    aggregates = {
        "opened": Count("pk", filter=Q(opens_on__lte=today)),
        "submitted": Count("pk", filter=Q(submitted_at__isnull=False)),
    }
    groups = list(SurveyAssignment.objects.values("survey__number").annotate(**aggregates).order_by())
    return _rows_from_groups("surveys", groups, "survey__number", aggregates)


def summary_refresh(*, today: datetime.date | None = None) -> int:
    """Rebuild every summary table; returns the number of rows. Safe to run at any time, twice, in parallel
    (the later one wins; both write a complete set)."""
    today = today or timezone.localdate()
    rows = (
        _funnel_rows()
        + _wave_rows()
        + _amount_rows()
        + _recipient_rows(today)
        + _catalog_rows()
        + _survey_rows(today)
    )
    now = timezone.now()
    for row in rows:
        row.refreshed_at = now
    with transaction.atomic():
        SummaryCount.objects.all().delete()
        SummaryCount.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def summary_table(table: str, *, group: str | None = None) -> dict[str, dict[str, int]]:
    """``{group: {metric: value}}`` of one table (one query), optionally one group only."""
    queryset = SummaryCount.objects.filter(table=table)
    if group is not None:
        queryset = queryset.filter(group=group)
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for g, metric, value in queryset.values_list("group", "metric", "value"):
        result[g][metric] = value
    return dict(result)


def summary_refreshed_at() -> datetime.datetime | None:
    return SummaryCount.objects.aggregate(at=models.Max("refreshed_at"))["at"]
