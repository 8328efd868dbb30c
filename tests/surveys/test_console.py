"""Console pages: editing questions through a draft, publishing, query counts of the lists."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from prakerja.models import AuditEntry
from prakerja.roles import Role
from surveys import services
from surveys.defaults import default_surveys_ensure
from surveys.enums import VersionStatus
from surveys.models import Question, Rating, SurveyAssignment, SurveyVersion
from tests.factories import ApplicantFactory
from tests.marketplace.factories import TrainingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(client, django_user_model):
    user = django_user_model.objects.create_user(
        email="petugas@example.test", password="x" * 12, is_staff=True
    )
    user.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    client.force_login(user)
    return user


def _inline_data(version, rows, *, extra=None):
    prefix = "questions"
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows) + (1 if extra else 0)),
        f"{prefix}-INITIAL_FORMS": str(len(rows)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, q in enumerate(rows + ([extra] if extra else [])):
        data.update(
            {
                f"{prefix}-{index}-id": str(q.get("id", "")),
                f"{prefix}-{index}-version": str(version.pk),
                f"{prefix}-{index}-position": str(q["position"]),
                f"{prefix}-{index}-kind": q["kind"],
                f"{prefix}-{index}-label_id": q["label_id"],
                f"{prefix}-{index}-label_en": q.get("label_en", ""),
                f"{prefix}-{index}-options_text": q.get("options_text", ""),
            }
        )
        if q.get("required"):
            data[f"{prefix}-{index}-required"] = "on"
    return data


def test_edit_questions_makes_a_draft_saved_through_services_then_publish(client, officer):
    survey = default_surveys_ensure()[1]
    published = services.version_current(survey_id=survey.pk)
    response = client.get(reverse("admin:surveys_survey_edit", args=[survey.pk]))
    draft = SurveyVersion.objects.get(survey=survey, status=VersionStatus.DRAFT)
    assert response.url == reverse("admin:surveys_surveyversion_change", args=[draft.pk])
    rows = [
        {
            "id": q.pk,
            "position": q.position,
            "kind": q.kind,
            "label_id": q.label_id,
            "label_en": q.label_en,
            "required": q.required,
            "options_text": "\n".join(f"{o['value']}|{o['label_id']}|{o['label_en']}" for o in q.options),
        }
        for q in draft.questions.order_by("position")
    ]
    extra = {
        "position": 4,
        "kind": "single",
        "label_id": "Apakah Anda punya usaha?",
        "label_en": "Do you run a business?",
        "required": True,
        "options_text": "yes|Ya|Yes\nno|Tidak|No",
    }
    response = client.post(
        reverse("admin:surveys_surveyversion_change", args=[draft.pk]), _inline_data(draft, rows, extra=extra)
    )
    assert response.status_code == 302
    added = Question.objects.get(version=draft, position=4)
    assert added.options == [
        {"value": "yes", "label_id": "Ya", "label_en": "Yes"},
        {"value": "no", "label_id": "Tidak", "label_en": "No"},
    ]
    assert published.questions.count() == 3
    client.post(
        reverse("admin:surveys_surveyversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert AuditEntry.objects.filter(action="surveys.version.published", target_id=str(draft.pk)).count() == 1
    # A published version's page has no editable question fields.
    page = client.get(reverse("admin:surveys_surveyversion_change", args=[draft.pk])).content.decode()
    assert 'name="questions-0-label_id"' not in page


def _window(survey, *, days_ago=0):
    today = timezone.localdate() - datetime.timedelta(days=days_ago)
    return SurveyAssignment.objects.create(
        survey=survey, owner=ApplicantFactory().user, province_id="32", opens_on=today, deadline=today
    )


def test_survey_list_query_count_is_constant(client):
    surveys = default_surveys_ensure()
    user = ApplicantFactory().user
    client.force_login(user)
    today = timezone.localdate()
    SurveyAssignment.objects.create(survey=surveys[0], owner=user, opens_on=today, deadline=today)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("surveys:list")).content.decode().count("data-survey=") == 1
    for survey in surveys[1:]:
        SurveyAssignment.objects.create(survey=survey, owner=user, opens_on=today, deadline=today)
    with CaptureQueriesContext(connection) as three:
        assert client.get(reverse("surveys:list")).content.decode().count("data-survey=") == 3
    assert len(one) == len(three)


def _synthetic_rating(training, stars):
    return Rating.objects.create(
        owner=ApplicantFactory().user,
        training=training,
        provider_id=training.provider_id,
        stars=stars,
        review="Cukup bagus untuk pemula",
        synthetic=True,
    )


def test_quality_page_and_rating_list_query_counts_are_constant(client, officer):
    trainings = [TrainingFactory() for _ in range(3)]
    _synthetic_rating(trainings[0], 1)
    urls = [reverse("admin:surveys_rating_quality"), reverse("admin:surveys_rating_changelist")]
    counts_one = []
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts_one.append(len(captured))
    _synthetic_rating(trainings[1], 4)
    _synthetic_rating(trainings[2], 5)
    for url, before in zip(urls, counts_one, strict=True):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        assert len(captured) == before
    page = client.get(urls[0])
    assert [(row["count"], row["low_percent"]) for row in page.context["trainings"]] == [
        (1, 100.0),
        (1, 0),
        (1, 0),
    ]


def test_assignment_list_is_read_only(client, officer):
    survey = default_surveys_ensure()[0]
    assignment = _window(survey)
    response = client.get(reverse("admin:surveys_surveyassignment_changelist"), {"q": assignment.owner.email})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [assignment]
    assert (
        client.post(reverse("admin:surveys_surveyassignment_change", args=[assignment.pk]), {}).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("changelist", "table"),
    [
        ("admin:surveys_rating_changelist", "surveys_rating"),
        ("admin:surveys_surveyassignment_changelist", "surveys_surveyassignment"),
    ],
)
def test_big_lists_page_by_the_primary_key_and_count_at_most_the_cap(admin_client, changelist, table):
    survey = default_surveys_ensure()[0]
    _window(survey)
    _synthetic_rating(TrainingFactory(), 3)
    with CaptureQueriesContext(connection) as ctx:
        assert admin_client.get(reverse(changelist)).status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert not [sql for sql in reads if "DISTINCT" in sql]
    counts = [sql for sql in reads if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT 10001" in sql.upper() for sql in counts), counts
    [page] = [sql for sql in reads if "ORDER BY" in sql]
    assert page.split("ORDER BY", 1)[1].strip().startswith(f'"{table}"."id" DESC')
