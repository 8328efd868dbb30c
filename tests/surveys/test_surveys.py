"""Evaluation surveys: versions, windows, answers saved as they go, submit, results and export, notices."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from disbursement.models import Entitlement
from prakerja.models import Notification
from prakerja.roles import Role
from surveys import services
from surveys.defaults import default_surveys_ensure
from surveys.enums import AssignmentState, VersionStatus
from surveys.exceptions import SurveyError
from surveys.models import Question, Survey, SurveyAssignment
from tests.factories import ApplicantFactory
from tests.surveys.factories import completed

pytestmark = pytest.mark.django_db

REVIEW = "Materinya jelas dan bermanfaat sekali"


def _rated_person():
    """Surveys defined, then a participant rates the first training: three windows from today."""
    default_surveys_ensure()
    completion = completed()
    user = completion.participant.applicant.user
    services.rating_submit(user=user, completion_id=completion.pk, stars=5, review=REVIEW)
    return user


def _window(user, number):
    return SurveyAssignment.objects.select_related("survey").get(owner=user, survey__number=number)


def _answer_all(user, assignment):
    version = services.assignment_version(assignment)
    for q in version.questions.order_by("position"):
        value = {
            "single": q.options[0]["value"] if q.options else "",
            "scale": "4",
            "number": "1500000",
            "text": "Bagus",
            "multiple": [o["value"] for o in q.options[:2]],
        }[q.kind]
        services.answer_save(user=user, assignment_id=assignment.pk, question_id=q.pk, value=value)


def test_rating_opens_three_windows_days_0_30_60():
    user = _rated_person()
    today = timezone.localdate()
    windows = list(SurveyAssignment.objects.filter(owner=user).order_by("survey__number"))
    assert [(w.opens_on - today).days for w in windows] == [0, 30, 60]
    assert [(w.deadline - w.opens_on).days for w in windows] == [29, 29, 29]
    assert [w.state() for w in windows] == [
        AssignmentState.OPEN,
        AssignmentState.NOT_YET_OPEN,
        AssignmentState.NOT_YET_OPEN,
    ]


def test_windows_not_yet_open_open_and_closed():
    user = _rated_person()
    second = _window(user, 2)
    version = services.assignment_version(second)
    question = version.questions.get(position=1)
    with pytest.raises(SurveyError) as refused:
        services.answer_save(user=user, assignment_id=second.pk, question_id=question.pk, value="informal")
    assert refused.value.code == "not_yet_open"
    SurveyAssignment.objects.filter(pk=second.pk).update(opens_on=timezone.localdate())
    services.answer_save(user=user, assignment_id=second.pk, question_id=question.pk, value="informal")
    SurveyAssignment.objects.filter(pk=second.pk).update(
        opens_on=timezone.localdate() - datetime.timedelta(days=40),
        deadline=timezone.localdate() - datetime.timedelta(days=1),
    )
    with pytest.raises(SurveyError) as refused:
        services.assignment_submit(user=user, assignment_id=second.pk)
    assert refused.value.code == "closed"


def test_published_version_cannot_change_and_editing_makes_a_new_version():
    survey = default_surveys_ensure()[0]
    published = services.version_current(survey_id=survey.pk)
    question = published.questions.get(position=1)
    with pytest.raises(SurveyError) as refused:
        services.question_save(
            version_id=published.pk, question_id=question.pk, position=1, kind="text", label_id="Baru"
        )
    assert refused.value.code == "version_frozen"
    with pytest.raises(SurveyError):
        services.question_delete(question_id=question.pk)
    assert Question.objects.get(pk=question.pk).kind == "single"
    draft = services.version_draft(survey_id=survey.pk)
    assert (draft.number, draft.status, draft.questions.count()) == (
        2,
        VersionStatus.DRAFT,
        published.questions.count(),
    )
    services.question_save(
        version_id=draft.pk, position=9, kind="scale", label_id="Pertanyaan baru", label_en="New"
    )
    services.version_publish(version_id=draft.pk)
    assert services.version_current(survey_id=survey.pk).pk == draft.pk
    assert published.questions.count() == 5


def test_answers_survive_a_reload_and_submit_schedules_50000_once(client):
    user = _rated_person()
    first = _window(user, 1)
    client.force_login(user)
    version = services.assignment_version(first)
    q1 = version.questions.get(position=1)
    q2 = version.questions.get(position=2)
    url = reverse("surveys:autosave", args=[first.pk])
    response = client.post(url, {"question": q1.pk, "value": "informal"})
    assert response.json() == {"ok": True, "answered": 1, "total": 5, "percent": 20}
    bad = client.post(url, {"question": q2.pk, "value": "9"})
    assert bad.status_code == 400 and bad.json()["code"] == "answer_invalid"
    page = client.get(reverse("surveys:answer", args=[first.pk])).content.decode()
    assert 'value="informal" checked' in page
    assert "1 dari 5" in page or "1 of 5" in page
    refused = client.post(
        reverse("surveys:answer", args=[first.pk]), {f"q{q1.pk}": "informal", "submit": "1"}
    )
    assert refused.status_code == 200
    assert Entitlement.objects.filter(kind="survey_incentive").count() == 0
    _answer_all(user, first)
    services.assignment_submit(user=user, assignment_id=first.pk)
    with pytest.raises(SurveyError):
        services.assignment_submit(user=user, assignment_id=first.pk)
    rows = list(Entitlement.objects.filter(owner=user, kind="survey_incentive"))
    assert [(e.number, e.amount, e.due_on) for e in rows] == [(1, 50_000, timezone.localdate())]


def test_no_js_form_saves_everything_and_sends(client):
    user = _rated_person()
    first = _window(user, 1)
    client.force_login(user)
    version = services.assignment_version(first)
    data = {"submit": "1"}
    for q in version.questions.all():
        data[f"q{q.pk}"] = {
            "single": q.options[0]["value"] if q.options else "",
            "scale": "5",
            "number": "0",
            "text": "",
        }[q.kind]
    response = client.post(reverse("surveys:answer", args=[first.pk]), data)
    assert response.status_code == 302
    assert SurveyAssignment.objects.get(pk=first.pk).submitted_at is not None


def test_notifications_once_when_open_and_three_days_before_closing():
    user = _rated_person()
    counts = services.surveys_notify_due()
    assert counts == {"opened": 2, "reminded": 0}  # survey 1: email + SMS
    assert services.surveys_notify_due() == {"opened": 0, "reminded": 0}
    first = _window(user, 1)
    later = first.deadline - datetime.timedelta(days=3)
    assert services.surveys_notify_due(today=later) == {"opened": 0, "reminded": 2}
    assert services.surveys_notify_due(today=later) == {"opened": 0, "reminded": 0}
    keys = set(
        Notification.objects.filter(idempotency_key__startswith="surveys.assignment").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {
        f"surveys.assignment:{first.pk}:email",
        f"surveys.assignment:{first.pk}:sms",
        f"surveys.assignment.reminder:{first.pk}:email",
        f"surveys.assignment.reminder:{first.pk}:sms",
    }


def _responses(survey, count, *, start=0):
    """``count`` submitted responses (province 32 or 31) answering question 1 alternately."""
    version = services.version_current(survey_id=survey.pk)
    today = timezone.localdate()
    for n in range(start, start + count):
        applicant = ApplicantFactory()
        assignment = SurveyAssignment.objects.create(
            survey=survey,
            owner=applicant.user,
            province_id="32" if n % 2 else "31",
            opens_on=today,
            deadline=today,
        )
        for q in version.questions.all():
            value = {
                "single": q.options[n % 2]["value"] if q.options else "",
                "scale": str(n % 5 + 1),
                "number": str(n * 1000),
                "text": "=cmd|' /C calc'!A0",
                "multiple": [o["value"] for o in q.options[: n % 3 + 1]],
            }[q.kind]
            services.answer_save(
                user=applicant.user, assignment_id=assignment.pk, question_id=q.pk, value=value
            )
        services.assignment_submit(user=applicant.user, assignment_id=assignment.pk)


def _officer(client, django_user_model):
    from django.contrib.auth.models import Group

    officer = django_user_model.objects.create_user(
        email="petugas@example.test", password="x" * 12, is_staff=True
    )
    officer.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    client.force_login(officer)
    return officer


def test_results_numbers_equal_counts_over_the_export(client, django_user_model):
    survey = default_surveys_ensure()[0]
    _responses(survey, 5)
    _officer(client, django_user_model)
    version = services.version_current(survey_id=survey.pk)
    page = client.get(reverse("admin:surveys_survey_results", args=[survey.pk]))
    assert page.status_code == 200
    results = page.context["results"]
    export = client.get(
        reverse("admin:surveys_survey_export", args=[survey.pk]), {"version": version.pk, "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert results.submitted == len(rows) == 5
    for province in results.provinces:
        assert province["submitted"] == sum(1 for r in rows if r["province_code"] == province["code"])
    q1 = results.questions[0]
    for option in q1.options:
        assert option.count == sum(1 for r in rows if r["q1"] == option.value)
    assert [o.count for o in q1.options] == [3, 2, 0, 0]
    assert all(r["q5"] == "'=cmd|' /C calc'!A0" for r in rows)
    assert "nik" not in ",".join(rows[0].keys()).lower() and "name" not in ",".join(rows[0].keys()).lower()
    xlsx = client.get(
        reverse("admin:surveys_survey_export", args=[survey.pk]), {"version": version.pk, "format": "xlsx"}
    )
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_results_page_query_count_is_constant(client, django_user_model):
    survey = default_surveys_ensure()[0]
    _officer(client, django_user_model)
    url = reverse("admin:surveys_survey_results", args=[survey.pk])
    _responses(survey, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _responses(survey, 3, start=1)
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200
    assert len(one) == len(three)


def test_quality_page_per_provider_and_training(client, django_user_model):
    user = _rated_person()
    _officer(client, django_user_model)
    page = client.get(reverse("admin:surveys_rating_quality"))
    assert page.status_code == 200
    providers = page.context["providers"]
    assert [(p["count"], p["distribution"], p["low_percent"]) for p in providers] == [(1, [0, 0, 0, 0, 1], 0)]
    assert user.training_ratings.count() == 1


def test_survey_list_and_dashboard(client):
    user = _rated_person()
    client.force_login(user)
    listing = client.get(reverse("surveys:list")).content.decode()
    assert listing.count("data-survey=") == 3
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert reverse("surveys:answer", args=[_window(user, 1).pk]) in dashboard


def test_results_need_the_permission(client, django_user_model):
    survey = default_surveys_ensure()[0]
    user = django_user_model.objects.create_user(email="staf@example.test", password="x" * 12, is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:surveys_survey_results", args=[survey.pk])).status_code == 403
    assert Survey.objects.count() == 3


def test_a_survey_added_later_gets_windows_from_the_beat_job():
    from surveys.models import Survey
    from surveys.tasks import surveys_notify_due_task

    user = _rated_person()
    anchor = user.training_ratings.get().incentive_started_on
    late = Survey.objects.create(
        number=4, title_id="Survei tambahan", title_en="Extra survey", opens_after_days=90
    )
    surveys_notify_due_task.delay()
    window = SurveyAssignment.objects.get(owner=user, survey=late)
    assert (window.opens_on, window.deadline) == (
        anchor + datetime.timedelta(days=90),
        anchor + datetime.timedelta(days=119),
    )
    assert services.assignments_backfill() == 0
    # The job also told the person that survey 1 opened (email and SMS), once.
    assert Notification.objects.filter(idempotency_key__startswith="surveys.assignment:").count() == 2
