"""Races on PostgreSQL: one NIK, one applicant; at most N applicants per family card."""

import threading

import pytest
from django.db import connection

from registration.models import Applicant
from registration.services import RegistrationError, applicant_profile_save
from tests.factories import UserFactory
from tests.registration.factories import profile_input

pytestmark = pytest.mark.postgres


def race(calls):
    """Run the callables at the same moment in threads; return their results or errors."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_registrations_with_one_nik_exactly_one_wins(transactional_db):
    users = [UserFactory(email=f"kembar{n}@example.id") for n in range(2)]
    data = profile_input()
    results = race([lambda u=u: applicant_profile_save(user=u, data=data) for u in users])
    winners = [r for r in results if isinstance(r, Applicant)]
    losers = [r for r in results if isinstance(r, RegistrationError)]
    assert (len(winners), len(losers)) == (1, 1)
    assert losers[0].codes == ["nik_taken"]
    assert Applicant.objects.filter(nik=data.nik).count() == 1


def test_three_registrations_with_one_kk_and_a_limit_of_two(transactional_db, settings):
    settings.REGISTRATION_MAX_APPLICANTS_PER_KK = 2
    users = [UserFactory(email=f"keluarga{n}@example.id") for n in range(3)]
    inputs = [profile_input(serial=n + 1) for n in range(3)]
    results = race(
        [lambda u=u, d=d: applicant_profile_save(user=u, data=d) for u, d in zip(users, inputs, strict=True)]
    )
    winners = [r for r in results if isinstance(r, Applicant)]
    losers = [r for r in results if isinstance(r, RegistrationError)]
    assert (len(winners), len(losers)) == (2, 1)
    assert losers[0].codes == ["kk_full"]
    assert Applicant.objects.filter(kk_number=inputs[0].kk_number).count() == 2


def test_a_double_submitted_first_profile_saves_one_applicant_and_answers_both(transactional_db, settings):
    """A double click on the first save: both posts get the saved profile, neither an error.

    Five rounds, each family card allowed one member: the second post must count neither its own
    row, inserted by the first post meanwhile, as a second member of the card (``kk_full``) nor
    fail on the account's unique index (an IntegrityError, a 500): both happened before the fix.
    """
    settings.REGISTRATION_MAX_APPLICANTS_PER_KK = 1
    for round_ in range(5):
        user = UserFactory(email=f"dobel{round_}@example.id")
        data = profile_input(serial=round_ + 1, kk_number=f"327501010110000{round_}")
        results = race([lambda user=user, data=data: applicant_profile_save(user=user, data=data)] * 2)
        assert all(isinstance(r, Applicant) for r in results), results
        assert results[0].pk == results[1].pk
        assert list(Applicant.objects.filter(user=user).values_list("nik", flat=True)) == [data.nik]
