"""Survey results export: one row per submitted response, no names, no NIK, formula-escaped.

Every headline number of the results page can be recomputed from it: count the rows per province, or the
rows whose question column holds an option (a multiple choice lists its options separated by ``|``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils import timezone

from surveys.enums import QuestionKind
from surveys.models import Answer, Survey, SurveyAssignment, SurveyVersion

CHUNK = 1000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """A spreadsheet-safe text: a cell starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_rows(*, survey: Survey, version: SurveyVersion) -> Iterator[list[str]]:
    questions = list(version.questions.order_by("position"))
    yield [
        "response_id",
        "survey",
        "version",
        "province_code",
        "province",
        "submitted_on",
        *[f"q{q.position}" for q in questions],
    ]
    submitted = (
        SurveyAssignment.objects.filter(survey=survey, version=version, submitted_at__isnull=False)
        .select_related("province")
        .order_by("pk")
    )
    last = 0
    while True:
        chunk = list(submitted.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1].pk
        values: dict[tuple[int, int], list[str]] = {}
        for answer in (
            Answer.objects.filter(assignment__in=[a.pk for a in chunk])
            .values_list("assignment_id", "question_id", "option", "number", "text")
            .order_by("assignment_id", "question_id", "option")
        ):
            assignment_id, question_id, option, number, text = answer
            shown = option or (str(number) if number is not None else text)
            values.setdefault((assignment_id, question_id), []).append(shown)
        for assignment in chunk:
            row = [
                str(assignment.pk),
                str(survey.number),
                str(version.number),
                assignment.province_id or "",
                assignment.province.name if assignment.province else "",
                timezone.localtime(assignment.submitted_at).date().isoformat(),
            ]
            for question in questions:
                given = values.get((assignment.pk, question.pk), [])
                row.append(
                    "|".join(given) if question.kind == QuestionKind.MULTIPLE else (given[0] if given else "")
                )
            yield [cell(v) for v in row]


class _Echo:
    def write(self, value):
        return value


def export_csv_stream(*, survey: Survey, version: SurveyVersion) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # spreadsheet programs read UTF-8 with the mark
    for row in export_rows(survey=survey, version=version):
        yield writer.writerow(row)


def export_xlsx(*, survey: Survey, version: SurveyVersion) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"survei-{survey.number}-v{version.number}")
    for row in export_rows(survey=survey, version=version):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
