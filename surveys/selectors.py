"""Reads of the surveys app: reviews on the training page, curation numbers, survey results."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, F, Max, Min, Q

from marketplace.selectors import assessment_counts_by_provider
from registration.models import Province
from surveys.enums import QuestionKind, VersionStatus
from surveys.models import Answer, Question, Rating, Survey, SurveyAssignment, SurveyVersion, local_today

LOW_STARS = 2  # 1 or 2 stars count as a low rating


def reviews_recent(*, training_id: int, limit: int = 5) -> list[Rating]:
    """The newest visible reviews of a training: stars, words, first name and regency only."""
    return list(
        Rating.objects.filter(training_id=training_id, hidden_at__isnull=True)
        .select_related("reviewer_regency")
        .only("stars", "review", "reviewer_first_name", "reviewer_regency__name", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )


def rating_aggregates(
    *, group_by: str, filters: Q | None = None, order: str = "-low_share", limit: int = 100
):
    """Per provider or per training, in ONE grouped query: average, count, each star's count, low share."""
    stars = {f"s{n}": Count("id", filter=Q(stars=n)) for n in range(1, 6)}
    name = "provider__legal_name" if group_by == "provider" else "training__title"
    fields = [f"{group_by}_id", name]
    if group_by == "training":
        fields.append("provider__legal_name")
    rows = (
        Rating.objects.filter(filters or Q())
        .values(*fields)
        .annotate(
            count=Count("id"), average=Avg("stars"), low=Count("id", filter=Q(stars__lte=LOW_STARS)), **stars
        )
        .annotate(low_share=F("low") * 1.0 / F("count"))
        .order_by(order, f"{group_by}_id")[:limit]
    )
    result = []
    for row in rows:
        row["name"] = row[name]
        row["average"] = Decimal(str(row["average"])).quantize(Decimal("0.01"))
        row["low_percent"] = round(100 * row["low"] / row["count"], 1) if row["count"] else 0
        row["distribution"] = [row[f"s{n}"] for n in range(1, 6)]
        result.append(row)
    return result


def provider_assessments_attach(rows: list[dict]) -> list[dict]:
    """Add each provider's competency assessment results (``assessed``, ``competent_percent``)."""
    counts = assessment_counts_by_provider()
    for row in rows:
        found = counts.get(row["provider_id"], {"assessed": 0, "competent": 0})
        row["assessed"] = found["assessed"]
        row["competent_percent"] = (
            round(100 * found["competent"] / found["assessed"], 1) if found["assessed"] else None
        )
    return rows


# --- Survey results -------------------------------------------------------------------


@dataclass
class OptionResult:
    value: str
    label: str
    count: int
    percent: float


@dataclass
class QuestionResult:
    question: Question
    answered: int
    options: list[OptionResult] = field(default_factory=list)
    # number questions: count, average, min, max; text questions: count only
    number_stats: dict | None = None
    # province code -> {"name", "answered", "counts": [per option], "percents": [...]}
    by_province: list[dict] = field(default_factory=list)


@dataclass
class SurveyResults:
    survey: Survey
    version: SurveyVersion | None
    versions: list[SurveyVersion]
    assigned: int
    opened: int
    submitted: int
    response_rate: float
    provinces: list[dict]
    questions: list[QuestionResult]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def survey_results(*, survey: Survey, version_id: int | None = None, today=None) -> SurveyResults:
    """Every number of the results page in a fixed number of queries, whatever the number of responses."""
    today = today or local_today()
    versions = list(survey.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number"))
    version = next((v for v in versions if v.pk == version_id), versions[0] if versions else None)
    # One grouped query over the windows: assigned, opened (window started), submitted per province.
    windows = list(
        SurveyAssignment.objects.filter(survey=survey)
        .values("province_id")
        .annotate(
            assigned=Count("id"),
            opened=Count("id", filter=Q(opens_on__lte=today)),
            submitted=Count("id", filter=Q(submitted_at__isnull=False)),
            submitted_version=Count("id", filter=Q(submitted_at__isnull=False, version=version)),
        )
        .order_by("province_id")
    )
    names = dict(
        Province.objects.filter(pk__in=[w["province_id"] for w in windows if w["province_id"]]).values_list(
            "code", "name"
        )
    )
    provinces = [
        {
            "code": w["province_id"] or "",
            "name": names.get(w["province_id"], "-"),
            "assigned": w["assigned"],
            "opened": w["opened"],
            "submitted": w["submitted"],
            "submitted_version": w["submitted_version"],
            "rate": _percent(w["submitted"], w["opened"]),
        }
        for w in windows
    ]
    assigned = sum(p["assigned"] for p in provinces)
    opened = sum(p["opened"] for p in provinces)
    submitted = sum(p["submitted"] for p in provinces)
    questions: list[QuestionResult] = []
    if version is not None:
        question_rows = list(version.questions.order_by("position"))
        submitted_answers = Answer.objects.filter(
            question__version=version, assignment__survey=survey, assignment__submitted_at__isnull=False
        )
        # One grouped query for every choice and scale answer, per question, option and province.
        counts: dict[tuple[int, str, str], int] = {}
        respondents: dict[tuple[int, str], int] = {}
        for row in (
            submitted_answers.values("question_id", "option", "assignment__province_id")
            .annotate(n=Count("id"))
            .order_by()
        ):
            counts[(row["question_id"], row["option"], row["assignment__province_id"] or "")] = row["n"]
        # One query: how many people answered each question, per province (a multiple choice has many rows).
        for row in (
            submitted_answers.values("question_id", "assignment__province_id")
            .annotate(people=Count("assignment_id", distinct=True))
            .order_by()
        ):
            respondents[(row["question_id"], row["assignment__province_id"] or "")] = row["people"]
        # One query for the number questions' statistics.
        stats = {
            row["question_id"]: row
            for row in submitted_answers.filter(question__kind=QuestionKind.NUMBER)
            .values("question_id")
            .annotate(n=Count("id"), average=Avg("number"), low=Min("number"), high=Max("number"))
            .order_by()
        }
        for question in question_rows:
            answered = sum(n for (qid, _p), n in respondents.items() if qid == question.pk)
            result = QuestionResult(question=question, answered=answered)
            if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.SCALE):
                for value, label in question.choices():
                    n = sum(c for (qid, opt, _p), c in counts.items() if qid == question.pk and opt == value)
                    result.options.append(OptionResult(value, label, n, _percent(n, answered)))
                for province in provinces:
                    people = respondents.get((question.pk, province["code"]), 0)
                    per = [
                        counts.get((question.pk, value, province["code"]), 0)
                        for value, _l in question.choices()
                    ]
                    result.by_province.append(
                        {
                            "name": province["name"],
                            "answered": people,
                            "cells": [(c, _percent(c, people)) for c in per],
                        }
                    )
            elif question.kind == QuestionKind.NUMBER:
                row = stats.get(question.pk)
                result.number_stats = {
                    "count": row["n"] if row else 0,
                    "average": round(float(row["average"]), 1)
                    if row and row["average"] is not None
                    else None,
                    "min": row["low"] if row else None,
                    "max": row["high"] if row else None,
                }
            questions.append(result)
    return SurveyResults(
        survey=survey,
        version=version,
        versions=versions,
        assigned=assigned,
        opened=opened,
        submitted=submitted,
        response_rate=_percent(submitted, opened),
        provinces=provinces,
        questions=questions,
    )
