"""Evaluation surveys: versioned definitions, each person's window, answers saved as they go, submit.

A published version is frozen: every change goes through ``question_save`` / ``question_delete``, which
refuse it; ``version_draft`` copies the newest published version into a new draft to edit.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorts.services import programme_get
from disbursement.enums import EntitlementKind
from disbursement.services import entitlements_schedule
from prakerja.audit import audit_log
from prakerja.enums import NotificationChannel, NotificationStatus
from prakerja.models import Notification
from prakerja.notifications import render_message
from surveys.enums import AssignmentState, QuestionKind, VersionStatus
from surveys.exceptions import SurveyError
from surveys.models import Answer, Question, Rating, Survey, SurveyAssignment, SurveyVersion, local_today

NUMBER_LIMIT = 10**12
TEXT_MAX = 500
ASSIGN_BATCH = 2000
REMIND_DAYS_BEFORE = 3


# --- Definitions (console) ---------------------------------------------------------


def version_current(*, survey_id: int) -> SurveyVersion | None:
    """The newest published version: what a person who has not started yet answers."""
    return (
        SurveyVersion.objects.filter(survey_id=survey_id, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )


def version_draft(*, survey_id: int, actor=None) -> SurveyVersion:
    """The survey's draft to edit; made on first use as a copy of the newest published version."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey_id)
        draft = SurveyVersion.objects.filter(survey=survey, status=VersionStatus.DRAFT).first()
        if draft is not None:
            return draft
        number = (SurveyVersion.objects.filter(survey=survey).aggregate(m=Max("number"))["m"] or 0) + 1
        draft = SurveyVersion.objects.create(survey=survey, number=number)
        source = version_current(survey_id=survey.pk)
        if source is not None:
            Question.objects.bulk_create(
                Question(
                    version=draft,
                    position=q.position,
                    kind=q.kind,
                    required=q.required,
                    label_id=q.label_id,
                    label_en=q.label_en,
                    options=q.options,
                )
                for q in source.questions.all()
            )
        audit_log(
            actor=actor,
            action="surveys.version.drafted",
            obj=draft,
            data={"from": getattr(source, "pk", None)},
        )
    return draft


def _options_clean(kind: str, options) -> list[dict]:
    if kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return []
    cleaned, seen = [], set()
    for option in options or []:
        value = str(option.get("value", "")).strip()[:40]
        label_id = str(option.get("label_id", "")).strip()[:200]
        label_en = str(option.get("label_en", "")).strip()[:200] or label_id
        if not value or not label_id or value in seen:
            raise SurveyError(
                _("Every option needs a unique value and an Indonesian label."), code="option_invalid"
            )
        seen.add(value)
        cleaned.append({"value": value, "label_id": label_id, "label_en": label_en})
    if len(cleaned) < 2:
        raise SurveyError(_("A choice question needs at least two options."), code="options_missing")
    return cleaned


def _editable(version_id: int) -> SurveyVersion:
    version = SurveyVersion.objects.select_for_update().get(pk=version_id)
    if version.is_frozen:
        raise SurveyError(
            _("This version is published and can no longer change. Edit the survey to make a new version."),
            code="version_frozen",
        )
    return version


def question_save(
    *,
    version_id: int,
    position: int,
    kind: str,
    label_id: str,
    label_en: str = "",
    required: bool = True,
    options=None,
    question_id: int | None = None,
    actor=None,
) -> Question:
    """Add or change a question of a draft version. A published version refuses (``version_frozen``)."""
    if kind not in QuestionKind.values:
        raise SurveyError(_("Unknown question kind."), code="kind_invalid")
    label_id = (label_id or "").strip()
    if not label_id:
        raise SurveyError(_("The question needs an Indonesian label."), code="label_missing")
    fields = {
        "position": position,
        "kind": kind,
        "label_id": label_id[:300],
        "label_en": ((label_en or "").strip() or label_id)[:300],
        "required": bool(required),
        "options": _options_clean(kind, options),
    }
    with transaction.atomic():
        version = _editable(version_id)
        if question_id is None:
            question = Question.objects.create(version=version, **fields)
        else:
            question = Question.objects.get(pk=question_id, version=version)
            for name, value in fields.items():
                setattr(question, name, value)
            question.save()
        audit_log(actor=actor, action="surveys.question.saved", obj=version, data={"position": position})
    return question


def question_delete(*, question_id: int, actor=None) -> None:
    with transaction.atomic():
        question = Question.objects.get(pk=question_id)
        version = _editable(question.version_id)
        question.delete()
        audit_log(
            actor=actor, action="surveys.question.deleted", obj=version, data={"position": question.position}
        )


def version_publish(*, version_id: int, actor=None) -> SurveyVersion:
    """Freeze a draft: from now on people who start the survey answer these questions."""
    with transaction.atomic():
        version = _editable(version_id)
        if not version.questions.exists():
            raise SurveyError(_("A version without questions cannot be published."), code="version_empty")
        SurveyVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
            status=VersionStatus.PUBLISHED, published_at=timezone.now()
        )
        version.refresh_from_db()
        audit_log(actor=actor, action="surveys.version.published", obj=version)
    return version


# --- Windows ------------------------------------------------------------------------


def assignments_create_for(*, owner_id: int, anchor: datetime.date, province_id: str | None) -> int:
    """Give one person a window for every active survey, counted from their first training incentive."""
    rows = [
        SurveyAssignment(
            survey=survey,
            owner_id=owner_id,
            province_id=province_id,
            opens_on=anchor + datetime.timedelta(days=survey.opens_after_days),
            deadline=anchor + datetime.timedelta(days=survey.opens_after_days + survey.open_days - 1),
        )
        for survey in Survey.objects.filter(is_active=True)
    ]
    return len(SurveyAssignment.objects.bulk_create(rows, ignore_conflicts=True))


def assignments_backfill(*, batch_size: int = ASSIGN_BATCH) -> int:
    """Windows for a survey added after people's incentives started: batched, safe to run any time."""
    created = 0
    for survey in Survey.objects.filter(is_active=True):
        missing = (
            Rating.objects.filter(
                counts_for_incentive=True, incentive_started_on__isnull=False, synthetic=False
            )
            .exclude(owner__survey_assignments__survey=survey)
            .values_list("owner_id", "incentive_started_on", "owner__applicant__province_id")
            .order_by("pk")
        )
        batch = []
        for owner_id, anchor, province_id in missing.iterator(chunk_size=batch_size):
            batch.append(
                SurveyAssignment(
                    survey=survey,
                    owner_id=owner_id,
                    province_id=province_id,
                    opens_on=anchor + datetime.timedelta(days=survey.opens_after_days),
                    deadline=anchor + datetime.timedelta(days=survey.opens_after_days + survey.open_days - 1),
                )
            )
            if len(batch) >= batch_size:
                created += len(SurveyAssignment.objects.bulk_create(batch, ignore_conflicts=True))
                batch = []
        if batch:
            created += len(SurveyAssignment.objects.bulk_create(batch, ignore_conflicts=True))
    return created


# --- Answering ------------------------------------------------------------------------


def _open_assignment(*, user, assignment_id: int) -> SurveyAssignment:
    assignment = (
        SurveyAssignment.objects.select_related("survey").filter(pk=assignment_id, owner=user).first()
    )
    if assignment is None:
        raise SurveyError(_("This survey is not for you."), code="not_found")
    state = assignment.state()
    if state == AssignmentState.SUBMITTED:
        raise SurveyError(_("You already sent this survey. Thank you!"), code="submitted")
    if state == AssignmentState.NOT_YET_OPEN:
        raise SurveyError(
            _("This survey opens on %(date)s.") % {"date": assignment.opens_on.strftime("%d-%m-%Y")},
            code="not_yet_open",
        )
    if state == AssignmentState.CLOSED:
        raise SurveyError(
            _("This survey closed on %(date)s.") % {"date": assignment.deadline.strftime("%d-%m-%Y")},
            code="closed",
        )
    return assignment


def assignment_version(assignment: SurveyAssignment) -> SurveyVersion | None:
    """The version this person answers: fixed at the first answer, else the newest published one."""
    if assignment.version_id:
        return assignment.version
    return version_current(survey_id=assignment.survey_id)


def _value_rows(question: Question, value) -> list[dict]:
    """Check one answer and turn it into Answer fields; an empty value clears the answer."""
    if value is None or value == "" or value == []:
        return []
    invalid = SurveyError(_("This answer is not one of the choices."), code="answer_invalid")
    if question.kind in (QuestionKind.SINGLE, QuestionKind.SCALE):
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        allowed = {v for v, _label in question.choices()}
        if str(value) not in allowed:
            raise invalid
        return [{"option": str(value)}]
    if question.kind == QuestionKind.MULTIPLE:
        values = value if isinstance(value, list) else [value]
        allowed = {v for v, _label in question.choices()}
        values = sorted({str(v) for v in values})
        if not set(values) <= allowed:
            raise invalid
        return [{"option": v} for v in values]
    if question.kind == QuestionKind.NUMBER:
        try:
            number = int(str(value).strip().replace(".", ""))
        except ValueError:
            raise SurveyError(_("Enter a whole number."), code="number_invalid") from None
        if not 0 <= number < NUMBER_LIMIT:
            raise SurveyError(_("Enter a whole number of 0 or more."), code="number_invalid")
        return [{"number": number}]
    text = str(value).strip()
    if len(text) > TEXT_MAX:
        raise SurveyError(_("At most %(count)s characters.") % {"count": TEXT_MAX}, code="text_too_long")
    return [{"text": text}] if text else []


def answer_save(*, user, assignment_id: int, question_id: int, value) -> SurveyAssignment:
    """Save one answer as the person gives it (replacing the earlier one). The first answer fixes the version."""
    assignment = _open_assignment(user=user, assignment_id=assignment_id)
    with transaction.atomic():
        locked = SurveyAssignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.submitted_at is not None:
            raise SurveyError(_("You already sent this survey. Thank you!"), code="submitted")
        version = assignment_version(locked)
        if version is None:
            raise SurveyError(_("This survey is not ready yet."), code="not_ready")
        question = Question.objects.filter(pk=question_id, version=version).first()
        if question is None:
            raise SurveyError(_("This question is not part of your survey."), code="question_invalid")
        rows = _value_rows(question, value)
        if locked.version_id is None:
            now = timezone.now()
            SurveyAssignment.objects.filter(pk=locked.pk).update(version=version, started_at=now)
            locked.version, locked.started_at = version, now
        Answer.objects.filter(assignment=locked, question=question).delete()
        Answer.objects.bulk_create(Answer(assignment=locked, question=question, **row) for row in rows)
    return locked


def answers_of(assignment: SurveyAssignment) -> dict[int, object]:
    """{question id: value} as the form shows it: a string, or a list for multiple choice."""
    values: dict[int, object] = {}
    for answer in Answer.objects.filter(assignment=assignment).select_related("question").order_by("option"):
        if answer.question.kind == QuestionKind.MULTIPLE:
            values.setdefault(answer.question_id, []).append(answer.option)
        elif answer.option:
            values[answer.question_id] = answer.option
        elif answer.number is not None:
            values[answer.question_id] = str(answer.number)
        else:
            values[answer.question_id] = answer.text
    return values


def assignment_submit(*, user, assignment_id: int) -> SurveyAssignment:
    """Send the survey: every required question answered. Schedules the survey incentive once."""
    assignment = _open_assignment(user=user, assignment_id=assignment_id)
    version = assignment_version(assignment)
    if version is None:
        raise SurveyError(_("This survey is not ready yet."), code="not_ready")
    answered = set(Answer.objects.filter(assignment=assignment).values_list("question_id", flat=True))
    missing = [q.position for q in version.questions.all() if q.required and q.pk not in answered]
    if missing:
        raise SurveyError(
            _("Answer every required question first (missing: %(numbers)s).")
            % {"numbers": ", ".join(str(n) for n in missing)},
            code="required_missing",
        )
    with transaction.atomic():
        now = timezone.now()
        changed = SurveyAssignment.objects.filter(pk=assignment.pk, submitted_at__isnull=True).update(
            submitted_at=now, version=version, started_at=assignment.started_at or now
        )
        assignment.refresh_from_db()
        if not changed:
            return assignment
        programme = programme_get()
        entitlements_schedule(
            owner=user,
            kind=EntitlementKind.SURVEY_INCENTIVE,
            amount=programme.survey_incentive_amount,
            count=1,
            first_number=assignment.survey.number,
            first_due_on=local_today(),
            reference=f"survey-response:{assignment.pk}",
            idempotency_key=f"survey-incentive:{user.pk}:{assignment.survey_id}",
            actor=user,
        )
        audit_log(
            actor=user,
            action="surveys.survey.submitted",
            obj=assignment,
            data={"survey": assignment.survey.number, "version": version.number},
        )
    return assignment


# --- Notifications (beat) ----------------------------------------------------------------


def _queue_bulk(*, where: str, params: dict, template: str, context: dict, key: str) -> int:
    """One INSERT ... SELECT per language and channel into the outbox; ON CONFLICT keeps it once per person."""
    from prakerja.models import User
    from registration.models import Applicant

    t_assign = SurveyAssignment._meta.db_table
    t_user = User._meta.db_table
    t_applicant = Applicant._meta.db_table
    t_note = Notification._meta.db_table
    queued = 0
    now = timezone.now()
    for language, _name in settings.LANGUAGES:
        subject, email_body, sms_body = render_message(template, context, language=language)
        subject = f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}"
        for channel, recipient, body in (
            (NotificationChannel.EMAIL, "u.email", email_body),
            (NotificationChannel.SMS, "ap.phone", sms_body),
        ):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO {t_note} (created_at, user_id, channel, recipient, subject, body, status,
                        attempts, next_attempt_at, last_error, idempotency_key, sensitive)
                    SELECT %(now)s, u.id, %(channel)s, {recipient}, %(subject)s, %(body)s, %(queued)s,
                        0, %(now)s, '', %(key)s || CAST(a.id AS TEXT) || %(suffix)s, %(false)s
                    FROM {t_assign} a
                    JOIN {t_user} u ON u.id = a.owner_id
                    JOIN {t_applicant} ap ON ap.user_id = u.id
                    WHERE {where} AND u.language = %(language)s AND {recipient} <> ''
                    ON CONFLICT DO NOTHING
                    """,  # noqa: S608 - identifiers come from model metadata, values are parameters
                    {
                        **params,
                        "now": now,
                        "channel": channel,
                        "subject": subject if channel == NotificationChannel.EMAIL else "",
                        "body": body,
                        "queued": NotificationStatus.QUEUED,
                        "false": False,
                        "key": key,
                        "suffix": f":{channel}",
                        "language": language,
                    },
                )
                queued += cursor.rowcount
    return queued


def surveys_notify_due(*, today: datetime.date | None = None) -> dict[str, int]:
    """Tell people a survey opened, and remind them 3 days before it closes. Set-based, once per window.

    Queued in the outbox in each person's language; the outbox sweeper sends them.
    """
    today = today or local_today()
    counts = {"opened": 0, "reminded": 0}
    for survey in Survey.objects.filter(is_active=True):
        with transaction.atomic():
            where = (
                "a.survey_id = %(survey)s AND a.opened_notified_at IS NULL AND a.submitted_at IS NULL "
                "AND a.opens_on <= %(today)s AND a.deadline >= %(today)s"
            )
            context = {"survey": survey, "site_url": settings.SITE_URL}
            counts["opened"] += _queue_bulk(
                where=where,
                params={"survey": survey.pk, "today": today},
                template="surveys_survey_opened",
                context=context,
                key="surveys.assignment:",
            )
            SurveyAssignment.objects.filter(
                survey=survey, opened_notified_at__isnull=True, submitted_at__isnull=True, opens_on__lte=today
            ).update(opened_notified_at=timezone.now())
        horizon = today + datetime.timedelta(days=REMIND_DAYS_BEFORE)
        due = SurveyAssignment.objects.filter(
            survey=survey,
            reminded_at__isnull=True,
            submitted_at__isnull=True,
            opens_on__lte=today,
            deadline__gte=today,
            deadline__lte=horizon,
        )
        for deadline in due.values_list("deadline", flat=True).distinct().order_by("deadline"):
            with transaction.atomic():
                counts["reminded"] += _queue_bulk(
                    where=(
                        "a.survey_id = %(survey)s AND a.reminded_at IS NULL AND a.submitted_at IS NULL "
                        "AND a.deadline = %(deadline)s AND a.opens_on <= %(today)s"
                    ),
                    params={"survey": survey.pk, "deadline": deadline, "today": today},
                    template="surveys_survey_closing",
                    context={**context, "deadline": deadline},
                    key="surveys.assignment.reminder:",
                )
                SurveyAssignment.objects.filter(
                    survey=survey, reminded_at__isnull=True, submitted_at__isnull=True, deadline=deadline
                ).update(reminded_at=timezone.now())
    return counts  # the outbox sweeper (every minute) sends the queued rows
