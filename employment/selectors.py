"""Reads of the employment app: shared profiles for the API, openings for the participant, and the
outcome counts the officers' programme dashboard shows (``oversight`` calls ``job_outcome_summary``)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from employment.enums import OutcomeKind
from employment.models import JobOpening, JobOutcome, JobPlatform, JobProfile, JobSharingConsent


def profiles_shared_with(platform: JobPlatform) -> QuerySet[JobProfile]:
    return JobProfile.objects.filter(
        consents__platform=platform, consents__withdrawn_at__isnull=True
    ).select_related("participant__applicant__regency__province")


def active_consents(profile: JobProfile) -> QuerySet[JobSharingConsent]:
    return JobSharingConsent.objects.filter(profile=profile, withdrawn_at__isnull=True).select_related(
        "platform"
    )


def openings_for(profile: JobProfile) -> QuerySet[JobOpening]:
    """Openings from the platforms the person shares with now (a withdrawal hides that platform's)."""
    return (
        JobOpening.objects.filter(
            profile=profile,
            platform__consents__profile=profile,
            platform__consents__withdrawn_at__isnull=True,
        )
        .select_related("platform")
        .order_by("-received_at", "-id")
    )


def job_outcome_summary() -> dict:
    """Per job platform and in total: profiles shared now, and people reported applied / interviewed /
    hired (distinct profiles), in two grouped queries."""
    shared = dict(
        JobSharingConsent.objects.filter(withdrawn_at__isnull=True)
        .values("platform_id")
        .annotate(n=Count("profile_id", distinct=True))
        .values_list("platform_id", "n")
    )
    outcomes = {
        row["platform_id"]: row
        for row in JobOutcome.objects.values("platform_id")
        .annotate(
            **{kind: Count("profile_id", filter=Q(kind=kind), distinct=True) for kind in OutcomeKind.values}
        )
        .order_by()
    }
    rows = []
    for platform_id, name in JobPlatform.objects.order_by("name").values_list("id", "name"):
        counts = outcomes.get(platform_id, {})
        rows.append(
            {
                "name": name,
                "shared": shared.get(platform_id, 0),
                **{kind: counts.get(kind, 0) for kind in OutcomeKind.values},
            }
        )
    total = {
        "shared": JobSharingConsent.objects.filter(withdrawn_at__isnull=True)
        .values("profile_id")
        .distinct()
        .count(),
        **{
            kind: JobOutcome.objects.filter(kind=kind).values("profile_id").distinct().count()
            for kind in OutcomeKind.values
        },
    }
    return {"platforms": rows, "total": total}
