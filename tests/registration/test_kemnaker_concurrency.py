"""Races on PostgreSQL: two Kemnaker officers deciding at once, two Disnaker sends at once."""

import threading

import pytest
from django.db import connection

from prakerja.models import AuditEntry
from registration import kemnaker
from registration.enums import SubmissionStatus
from registration.models import OfflineSubmission, OfflineSubmissionItem
from registration.services import applicant_register_offline
from tests.registration.factories import disnaker_user, kemnaker_user, profile_input

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _people(staff, count=3):
    for serial in range(count):
        data = profile_input(serial=800 + serial, kk_number=f"3275010101180{serial:03d}")
        applicant_register_offline(staff_user=staff, data=data, phone=f"+628136660{serial:04d}")


def test_two_kemnaker_officers_deciding_at_once_decide_once(transactional_db):
    disnaker = disnaker_user("32", email="d@x.test")
    _people(disnaker)
    submission = kemnaker.offline_submission_send(staff_user=disnaker)
    first_item = submission.items.order_by("pk").first()
    a, b = kemnaker_user("a@x.test"), kemnaker_user("b@x.test")
    outcomes = _race(
        lambda: kemnaker.offline_submission_decide(submission_id=submission.pk, officer=a, returns={}),
        lambda: kemnaker.offline_submission_decide(
            submission_id=submission.pk, officer=b, returns={first_item.pk: ("phone", "")}
        ),
    )
    decided = [o for o in outcomes if isinstance(o, OfflineSubmission)]
    refused = [o for o in outcomes if isinstance(o, kemnaker.SubmissionError)]
    assert (len(decided), len(refused)) == (1, 1), outcomes
    assert refused[0].code == "decided"
    assert AuditEntry.objects.filter(action="registration.kemnaker_submission_decided").count() == 1
    submission.refresh_from_db()
    assert submission.status in (SubmissionStatus.APPROVED, SubmissionStatus.PARTLY_APPROVED)
    assert submission.decided_by == decided[0].decided_by


def test_two_disnaker_sends_at_once_put_each_person_in_one_submission(transactional_db):
    first = disnaker_user("32", email="d1@x.test")
    second = disnaker_user("32", email="d2@x.test")
    _people(first)
    outcomes = _race(
        lambda: kemnaker.offline_submission_send(staff_user=first),
        lambda: kemnaker.offline_submission_send(staff_user=second),
    )
    sent = [o for o in outcomes if isinstance(o, OfflineSubmission)]
    refused = [o for o in outcomes if isinstance(o, kemnaker.SubmissionError)]
    assert (len(sent), len(refused)) == (1, 1), outcomes
    assert refused[0].code in ("empty", "race")
    assert OfflineSubmissionItem.objects.count() == 3
    assert OfflineSubmission.objects.get().person_count == 3
