"""Races on PostgreSQL: two rating submits (or survey submits) at the same moment schedule money once."""

import threading

import pytest
from django.db import connection

from disbursement.models import Entitlement
from surveys import services
from surveys.defaults import default_surveys_ensure
from surveys.models import Rating, SurveyAssignment
from tests.surveys.factories import completed

pytestmark = pytest.mark.postgres

REVIEW = "Materinya jelas dan bermanfaat sekali"


def _together(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_rating_submits_at_once_schedule_one_incentive(transactional_db):
    default_surveys_ensure()
    completion = completed()
    user = completion.participant.applicant.user

    def submit(stars):
        return lambda: services.rating_submit(
            user=user, completion_id=completion.pk, stars=stars, review=REVIEW
        )

    results = _together(submit(5), submit(3))
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(created for _rating, created in results) == [False, True]
    assert Rating.objects.filter(completion=completion).count() == 1
    assert list(Entitlement.objects.filter(owner=user).order_by("number").values_list("kind", "number")) == [
        ("training_incentive", n) for n in (1, 2, 3, 4)
    ]
    assert SurveyAssignment.objects.filter(owner=user).count() == 3


def test_two_survey_submits_at_once_schedule_one_survey_incentive(transactional_db):
    default_surveys_ensure()
    completion = completed()
    user = completion.participant.applicant.user
    services.rating_submit(user=user, completion_id=completion.pk, stars=5, review=REVIEW)
    first = SurveyAssignment.objects.get(owner=user, survey__number=1)
    version = services.assignment_version(first)
    for q in version.questions.filter(required=True):
        value = q.options[0]["value"] if q.options else "3"
        services.answer_save(user=user, assignment_id=first.pk, question_id=q.pk, value=value)
    results = _together(
        *(lambda: services.assignment_submit(user=user, assignment_id=first.pk) for _ in range(2))
    )
    assert Entitlement.objects.filter(owner=user, kind="survey_incentive").count() == 1
    assert sum(1 for r in results if isinstance(r, Exception)) <= 1
