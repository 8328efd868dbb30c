"""The job platforms' API: consenting profiles, openings for a person, outcomes. See ../openapi.yaml."""

from __future__ import annotations

import datetime
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from employment import services
from employment.api.errors import JobApiError, error_response
from employment.api.framework import JobApiContext, job_endpoint
from employment.enums import OutcomeKind
from employment.models import JobOpening, JobOutcome, JobProfile, JobSharingConsent
from employment.selectors import profiles_shared_with
from marketplace.api.framework import input_refusal, parse_json_object
from marketplace.codes import code_display
from marketplace.selectors import completions_of_participants

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
QUERY_INTEGER = re.compile(r"[0-9]{1,9}")
EXTERNAL_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _training_json(completion) -> dict:
    training = completion.voucher.training
    assessment = getattr(completion, "assessment", None)
    return {
        "title": training.title,
        "provider": training.provider.display_name,
        "category": training.category,
        "completed_on": timezone.localtime(completion.completed_at).date().isoformat(),
        "certificate_number": completion.certificate_number,
        "verification_code": code_display(completion.verification_code),
        "verify_url": settings.SITE_URL.rstrip("/")
        + reverse("marketplace:certificate_verify", args=[completion.verification_code]),
        "competency": (
            {
                "result": assessment.result,
                "institution": assessment.institution.name,
                "assessed_on": assessment.assessed_on.isoformat(),
                "certificate_number": assessment.certificate_number or None,
            }
            if assessment
            else None
        ),
    }


def profile_json(profile: JobProfile, completions: list, consented_at) -> dict:
    """What a job platform may know: never NIK, card number, photos, contact data or money."""
    applicant = profile.participant.applicant
    regency = applicant.regency
    return {
        "id": str(profile.public_id),
        "name": " ".join(applicant.full_name.split()).title(),
        "regency": regency.name if regency else None,
        "province": regency.province.name if regency else None,
        "education": applicant.education or None,
        "summary": profile.summary,
        "consented_at": consented_at.isoformat(),
        "trainings": [_training_json(c) for c in completions],
    }


def _int_param(request: HttpRequest, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    value = int(raw) if QUERY_INTEGER.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise JobApiError("validation_failed", details={name: [f"must be an integer {low}..{high}"]})
    return value


def _consented_at(platform, profile_ids) -> dict:
    return dict(
        JobSharingConsent.objects.filter(
            platform=platform, profile_id__in=profile_ids, withdrawn_at__isnull=True
        ).values_list("profile_id", "granted_at")
    )


def _profile_id(raw: str):
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise JobApiError("profile_not_found") from None


@job_endpoint(methods=("GET",))
def ping(request: HttpRequest, context: JobApiContext) -> HttpResponse:
    return JsonResponse(
        {
            "platform": {"slug": context.platform.slug, "name": context.platform.name},
            "key_id": context.credential.key_id,
            "server_time": int(timezone.now().timestamp()),
        }
    )


@job_endpoint(methods=("GET",))
def profiles(request: HttpRequest, context: JobApiContext) -> HttpResponse:
    """The profiles shared with this platform now, in pages (``offset``, ``limit``)."""
    limit = _int_param(request, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = _int_param(request, "offset", default=0, low=0, high=10**8)
    rows = list(profiles_shared_with(context.platform).order_by("pk")[offset : offset + limit])
    completions = completions_of_participants([row.participant_id for row in rows])
    consented = _consented_at(context.platform, [row.pk for row in rows])
    return JsonResponse(
        {
            "results": [
                profile_json(row, completions[row.participant_id], consented[row.pk]) for row in rows
            ],
            "next_offset": offset + limit if len(rows) == limit else None,
        }
    )


@job_endpoint(methods=("GET",))
def profile(request: HttpRequest, context: JobApiContext, profile_id: str) -> HttpResponse:
    found = services.shared_profile(platform=context.platform, public_id=_profile_id(profile_id))
    found = JobProfile.objects.select_related("participant__applicant__regency__province").get(pk=found.pk)
    completions = completions_of_participants([found.participant_id])[found.participant_id]
    consented = _consented_at(context.platform, [found.pk])[found.pk]
    return JsonResponse(profile_json(found, completions, consented))


def _text(data: dict, name: str, errors: dict, *, required: bool, max_length: int) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_length:
        errors[name] = [f"must be a text of {1 if required else 0} to {max_length} characters"]
        return ""
    return value.strip()


def _date(data: dict, name: str, errors: dict, *, required: bool) -> datetime.date | None:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        if not isinstance(value, str) or not DATE.fullmatch(value):
            raise ValueError
        return datetime.date.fromisoformat(value)
    except ValueError:
        errors[name] = ["must be a date YYYY-MM-DD"]
        return None


def _check_fields(data: dict, allowed: set[str], errors: dict) -> None:
    for name in sorted(set(data) - allowed):
        errors[name] = ["unknown field"]


def opening_json(opening: JobOpening) -> dict:
    return {
        "external_id": opening.external_id,
        "title": opening.title,
        "company": opening.company,
        "location": opening.location,
        "url": opening.url,
        "closes_on": opening.closes_on.isoformat() if opening.closes_on else None,
        "received_at": opening.received_at.isoformat(),
    }


@job_endpoint(methods=("POST",))
def openings(request: HttpRequest, context: JobApiContext, profile_id: str) -> HttpResponse:
    """Send an opening for this person (shown on their "Lowongan" page). Same external_id: updated."""
    public_id = _profile_id(profile_id)
    data = parse_json_object(request)
    errors: dict[str, list[str]] = {}
    _check_fields(data, {"external_id", "title", "company", "location", "url", "closes_on"}, errors)
    external_id = data.get("external_id")
    if not isinstance(external_id, str) or not EXTERNAL_ID.fullmatch(external_id):
        errors["external_id"] = ["1 to 64 characters: letters, digits, '_', '.', ':' or '-'"]
    title = _text(data, "title", errors, required=True, max_length=150)
    company = _text(data, "company", errors, required=True, max_length=150)
    location = _text(data, "location", errors, required=False, max_length=150)
    url = data.get("url")
    try:
        if not isinstance(url, str) or len(url) > 500:
            raise ValidationError("")
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        errors["url"] = ["must be an http(s) URL of at most 500 characters"]
    closes_on = _date(data, "closes_on", errors, required=False)
    if errors:
        raise JobApiError("validation_failed", details=errors)
    opening, created = services.opening_receive(
        platform=context.platform,
        public_id=public_id,
        external_id=external_id,
        title=title,
        company=company,
        url=url,
        location=location,
        closes_on=closes_on,
    )
    return JsonResponse(opening_json(opening), status=201 if created else 200)


def outcome_json(outcome: JobOutcome) -> dict:
    return {
        "kind": outcome.kind,
        "job_reference": outcome.job_reference,
        "occurred_on": outcome.occurred_on.isoformat(),
        "reported_at": outcome.reported_at.isoformat(),
    }


@job_endpoint(methods=("POST",))
def outcomes(request: HttpRequest, context: JobApiContext, profile_id: str) -> HttpResponse:
    """Report that the person applied, was interviewed or was hired. The same report again: 200."""
    public_id = _profile_id(profile_id)
    data = parse_json_object(request)
    errors: dict[str, list[str]] = {}
    _check_fields(data, {"kind", "job_reference", "occurred_on"}, errors)
    kind = data.get("kind")
    if kind not in OutcomeKind.values:
        errors["kind"] = [f"one of {', '.join(OutcomeKind.values)}"]
    job_reference = data.get("job_reference")
    if not isinstance(job_reference, str) or not EXTERNAL_ID.fullmatch(job_reference):
        errors["job_reference"] = ["1 to 64 characters: letters, digits, '_', '.', ':' or '-'"]
    occurred_on = _date(data, "occurred_on", errors, required=True)
    if errors:
        raise JobApiError("validation_failed", details=errors)
    outcome, created = services.outcome_report(
        platform=context.platform,
        public_id=public_id,
        kind=kind,
        occurred_on=occurred_on,
        job_reference=job_reference,
    )
    return JsonResponse(outcome_json(outcome), status=201 if created else 200)


def not_found(request: HttpRequest) -> HttpResponse:
    return input_refusal(request) or error_response("not_found")


@require_GET
def openapi_document(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/yaml; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
