"""The officers' programme dashboard and the public statistics (/statistik/), both read from the summary.

Public numbers below ``SUPPRESS_BELOW`` people are replaced by "<10" (None in the open data), so no
one can be singled out. Officers see exact numbers; Disnaker staff only their province.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Min
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from cohorts.enums import RunStatus
from cohorts.models import SelectionRun
from disbursement.enums import BatchStatus, PayoutStatus
from disbursement.models import Payout, PayoutBatch
from employment.selectors import job_outcome_summary
from kyc.models import KycCase
from marketplace.enums import WebhookStatus
from marketplace.models import WebhookDelivery
from oversight import charts, summary
from oversight.enums import ACTIVE_STATUSES
from oversight.models import Complaint
from prakerja.audit import audit_log
from prakerja.enums import NotificationStatus
from prakerja.models import Notification
from prakerja.spreadsheets import spreadsheet_cell
from registration.enums import Education, EmploymentStatus, Gender
from registration.models import Province, Regency

SUPPRESS_BELOW = 10
LICENCE = "Creative Commons Attribution 4.0 (CC BY 4.0)"
CAP = 10_000  # backlog counts stop here: the page never counts a whole big table


def suppress(value: int | None) -> int | None:
    return None if value is None or value < SUPPRESS_BELOW else value


@dataclass
class PublicTable:
    slug: str
    table: str
    title: str
    group_title: str
    metrics: tuple[str, ...]

    def labels(self) -> dict[str, str]:
        if self.table == "recipients_province":
            return dict(Province.objects.values_list("code", "name"))
        if self.table == "recipients_regency":
            return dict(Regency.objects.values_list("code", "name"))
        choices = {
            "recipients_gender": Gender.choices,
            "recipients_education": Education.choices,
            "recipients_employment": EmploymentStatus.choices,
        }.get(self.table)
        if choices:
            return {value: str(label) for value, label in choices}
        return {}


METRIC_TITLES = {
    "participants": gettext_lazy("Participants"),
    "trainings_completed": gettext_lazy("Trainings completed"),
}

PUBLIC_TABLES = {
    t.slug: t
    for t in (
        PublicTable(
            "penerima-per-provinsi",
            "recipients_province",
            gettext_lazy("Participants by province"),
            gettext_lazy("Province"),
            ("participants", "trainings_completed"),
        ),
        PublicTable(
            "penerima-per-kabupaten-kota",
            "recipients_regency",
            gettext_lazy("Participants by regency or city"),
            gettext_lazy("Regency or city"),
            ("participants",),
        ),
        PublicTable(
            "penerima-per-jenis-kelamin",
            "recipients_gender",
            gettext_lazy("Participants by gender"),
            gettext_lazy("Gender"),
            ("participants",),
        ),
        PublicTable(
            "penerima-per-kelompok-umur",
            "recipients_age",
            gettext_lazy("Participants by age group"),
            gettext_lazy("Age"),
            ("participants",),
        ),
        PublicTable(
            "penerima-per-pendidikan",
            "recipients_education",
            gettext_lazy("Participants by education"),
            gettext_lazy("Education"),
            ("participants",),
        ),
        PublicTable(
            "penerima-per-status-pekerjaan",
            "recipients_employment",
            gettext_lazy("Participants by employment status"),
            gettext_lazy("Employment status"),
            ("participants",),
        ),
    )
}


def public_rows(spec: PublicTable) -> list[dict]:
    """The table's rows with suppressed cells as None, sorted by label."""
    labels = spec.labels()
    rows = []
    for group, values in summary.summary_table(spec.table).items():
        label = str(_("Not recorded")) if group == "-" else labels.get(group, group)
        row = {"code": group, "label": label}
        for metric in spec.metrics:
            row[metric] = suppress(values.get(metric, 0))
        rows.append(row)
    return sorted(rows, key=lambda row: str(row["label"]))


def _headline() -> dict:
    funnel = summary.summary_table("funnel", group="").get("", {})
    catalog = summary.summary_table("catalog").get("", {})
    amounts = summary.summary_table("amounts", group="").get("", {})
    return {
        "registered": suppress(funnel.get("registered", 0)),
        "participants": suppress(funnel.get("participant", 0)),
        "completed": suppress(catalog.get("trainings_completed", 0)),
        "paid_people": suppress(funnel.get("incentive_paid", 0)),
        # A sum of money says nothing about one person once at least SUPPRESS_BELOW were paid.
        "paid_rp": amounts.get("incentive_paid_rp", 0) if suppress(funnel.get("incentive_paid", 0)) else None,
        "platforms": catalog.get("platforms", 0),
        "providers": catalog.get("providers", 0),
        "trainings": catalog.get("trainings", 0),
    }


def _statistics_body(updated) -> str:
    """The page's tables and charts, rendered once per summary refresh and language (cached)."""
    key = f"oversight:statistik:{updated.timestamp() if updated else 0}:{translation.get_language()}"
    body = cache.get(key)
    if body is None:
        sections = []
        for spec in PUBLIC_TABLES.values():
            rows = public_rows(spec)
            chart = None
            if spec.table != "recipients_regency":
                chart = charts.bar_chart(
                    [(row["label"], row["participants"]) for row in rows[:40]], title=str(spec.title)
                )
            sections.append({"spec": spec, "rows": rows, "chart": chart})
        surveys = [
            {
                "number": number,
                "submitted": suppress(values.get("submitted", 0)),
                "rate": round(100 * values.get("submitted", 0) / values["opened"])
                if values.get("opened") and suppress(values.get("submitted", 0))
                else None,
            }
            for number, values in sorted(summary.summary_table("surveys").items())
        ]
        body = render_to_string(
            "oversight/_statistics_body.html",
            {"headline": _headline(), "sections": sections, "surveys": surveys, "licence": LICENCE},
        )
        cache.set(key, body, 3600)
    return mark_safe(body)  # noqa: S308 - rendered by our own template, with autoescaping


@require_GET
@cache_control(public=True, max_age=300)
def public_statistics(request):
    updated = summary.summary_refreshed_at()
    return render(
        request,
        "oversight/statistics.html",
        {"body": _statistics_body(updated), "updated": updated, "suppress_below": SUPPRESS_BELOW},
    )


@require_GET
@cache_control(public=True, max_age=300)
def open_data_index(request):
    return render(
        request,
        "oversight/open_data.html",
        {
            "tables": PUBLIC_TABLES.values(),
            "metric_titles": METRIC_TITLES,
            "licence": LICENCE,
            "suppress_below": SUPPRESS_BELOW,
            "updated": summary.summary_refreshed_at(),
        },
    )


@require_GET
@cache_control(public=True, max_age=300)
def open_data(request, slug: str, fmt: str):
    spec = PUBLIC_TABLES.get(slug)
    if spec is None or fmt not in ("csv", "json"):
        raise Http404
    rows = public_rows(spec)
    updated = summary.summary_refreshed_at()
    if fmt == "json":
        payload = {
            "table": spec.slug,
            "title": str(spec.title),
            "licence": LICENCE,
            "updated": updated.isoformat() if updated else None,
            "suppressed_below": SUPPRESS_BELOW,
            "columns": ["code", "label", *spec.metrics],
            "rows": rows,
        }
        return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{spec.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(["code", "label", *spec.metrics])
    for row in rows:
        writer.writerow(
            [spreadsheet_cell(row["code"]), spreadsheet_cell(row["label"])]
            + ["" if row[m] is None else row[m] for m in spec.metrics]
        )
    return response


# --- The officers' dashboard ---------------------------------------------------------------


def _scope(request) -> str:
    """ "" for the whole programme, or a province code (always the own one for Disnaker staff)."""
    staff = getattr(request.user, "disnaker", None)
    if staff is not None and not request.user.is_superuser:
        return staff.province_id
    province = request.GET.get("provinsi", "")
    return province if Province.objects.filter(code=province).exists() else ""


def _capped(queryset) -> int:
    """At most CAP + 1, without sorting (a model's default ordering would sort the whole backlog)."""
    return queryset.order_by()[: CAP + 1].count()


def _operations(scope: str) -> dict:
    now = timezone.now()
    review = KycCase.objects.filter(status="review")
    complaints = Complaint.objects.filter(status__in=ACTIVE_STATUSES)
    if scope:
        review = review.filter(applicant__province_id=scope)
        complaints = complaints.filter(province_id=scope)
    oldest = review.aggregate(at=Min("status_changed_at"))["at"]
    return {
        "kyc_review": _capped(review),
        "kyc_review_oldest_hours": round((now - oldest).total_seconds() / 3600) if oldest else None,
        "selections_running": SelectionRun.objects.filter(
            status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
        ).count(),
        "outbox_queued": _capped(Notification.objects.filter(status=NotificationStatus.QUEUED)),
        "webhooks_queued": _capped(WebhookDelivery.objects.filter(status=WebhookStatus.QUEUED)),
        "batches_waiting": PayoutBatch.objects.filter(status=BatchStatus.PREPARED).count(),
        "payouts_failed": _capped(Payout.objects.filter(status=PayoutStatus.FAILED)),
        "complaints_open": _capped(complaints),
        "complaints_overdue": _capped(complaints.filter(escalated_at__isnull=False)),
        "cap": CAP,
    }


def _funnel_rows(scope: str) -> list[dict]:
    values = summary.summary_table("funnel", group=scope).get(scope, {})
    rows, previous = [], None
    for stage, label in summary.FUNNEL.items():
        if scope and stage in summary.ACCOUNT_STAGES:
            continue
        value = values.get(stage, 0)
        share = round(100 * value / previous) if previous else None
        rows.append({"stage": stage, "label": str(label), "value": value, "share": share})
        previous = value
    return rows


def programme_dashboard(request):
    if not (
        request.user.is_active
        and request.user.is_staff
        and request.user.has_perm("oversight.view_programme_dashboard")
    ):
        raise PermissionDenied
    scope = _scope(request)
    funnel = _funnel_rows(scope)
    dropout_values = summary.summary_table("dropout", group=scope).get(scope, {})
    dropouts = [
        {"key": key, "label": str(label), "value": dropout_values.get(key, 0)}
        for key, label in summary.DROPOUT.items()
    ]
    provinces = dict(Province.objects.values_list("code", "name"))
    by_province = []
    if not scope:
        funnel_table = summary.summary_table("funnel")
        amounts = summary.summary_table("amounts")
        for code, name in sorted(provinces.items()):
            values = funnel_table.get(code, {})
            by_province.append(
                {
                    "code": code,
                    "name": name,
                    "values": [
                        values.get(stage, 0)
                        for stage in summary.FUNNEL
                        if stage not in summary.ACCOUNT_STAGES
                    ],
                    "paid_rp": amounts.get(code, {}).get("incentive_paid_rp", 0),
                }
            )
    waves = sorted(summary.summary_table("funnel_wave").items(), key=lambda item: -int(item[0] or 0))
    wave_rows = [
        {"number": number, "values": [values.get(stage, 0) for stage in summary.WAVE_STAGES]}
        for number, values in waves
    ]
    amount = summary.summary_table("amounts", group=scope).get(scope, {}).get("incentive_paid_rp", 0)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="funnel-{scope or "nasional"}.csv"'
        writer = csv.writer(response)
        writer.writerow(["stage", "label", "value", "share_of_previous_percent"])
        for row in funnel:
            writer.writerow(
                [
                    row["stage"],
                    spreadsheet_cell(row["label"]),
                    row["value"],
                    "" if row["share"] is None else row["share"],
                ]
            )
        for row in dropouts:
            writer.writerow(["dropout", spreadsheet_cell(row["label"]), row["value"], ""])
        return response
    context = {
        **admin.site.each_context(request),
        "title": _("Programme dashboard"),
        "scope": scope,
        "scope_name": provinces.get(scope, ""),
        "provinces": sorted(provinces.items()),
        "can_choose_province": getattr(request.user, "disnaker", None) is None or request.user.is_superuser,
        "funnel": funnel,
        "funnel_chart": charts.bar_chart(
            [(row["label"], row["value"]) for row in funnel], title=str(_("Funnel"))
        ),
        "dropouts": dropouts,
        "dropout_chart": charts.bar_chart(
            [(row["label"], row["value"]) for row in dropouts], title=str(_("Drop-out reasons"))
        ),
        "by_province": by_province,
        "stage_labels": [summary.FUNNEL[s] for s in summary.FUNNEL if s not in summary.ACCOUNT_STAGES],
        "waves": wave_rows,
        "wave_stage_labels": [summary.FUNNEL[s] for s in summary.WAVE_STAGES],
        "paid_rp": amount,
        "operations": _operations(scope),
        # National only: job platforms report per person, not per province.
        "jobs": None if scope else job_outcome_summary(),
        "updated": summary.summary_refreshed_at(),
    }
    return render(request, "admin/oversight/dashboard.html", context)


@require_POST
def programme_dashboard_refresh(request):
    if not (
        request.user.is_active
        and request.user.is_staff
        and request.user.has_perm("oversight.view_programme_dashboard")
    ):
        raise PermissionDenied
    from oversight.tasks import summary_refresh_task  # oversight.tasks imports the services this module uses

    audit_log(actor=request.user, action="oversight.summary_refresh_requested")
    summary_refresh_task.delay()
    messages.info(request, _("The numbers are being recomputed. Reload the page in a minute."))
    return redirect(reverse("programme_dashboard"))
