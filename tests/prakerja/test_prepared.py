"""Reads by statements written once (prakerja.prepared) give what the querysets they replace give.

The session row (prakerja.sessions), the account by id (``User.objects.get(pk=...)``) and the
applicant row of an account (registration.selectors) are read on every signed-in request; each is
compared here with the ORM's answer, field by field, on the database the suite runs on.
"""

import datetime

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.urls import reverse
from django.utils import timezone

from prakerja.models import User
from prakerja.prepared import RowReader
from prakerja.sessions import SessionStore
from registration.models import Applicant
from registration.selectors import applicant_row_of_user, applicant_row_of_user_for_update
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _same_instance(fast, slow) -> None:
    assert type(fast) is type(slow)
    assert _values(fast) == _values(slow)
    assert fast._state.adding is slow._state.adding is False
    assert fast._state.db == slow._state.db


def test_applicant_row_equals_the_querysets_row():
    applicant = ApplicantFactory(exclusion_reason="x", civil_mismatch_fields=["full_name", "birth_date"])
    Applicant.objects.filter(pk=applicant.pk).update(civil_checked_at=timezone.now())
    slow = Applicant.objects.get(user_id=applicant.user_id)
    fast = applicant_row_of_user(applicant.user)
    _same_instance(fast, slow)
    assert fast.civil_mismatch_fields == ["full_name", "birth_date"]  # JSON decoded as the ORM does
    assert isinstance(fast.birth_date, datetime.date) and isinstance(fast.civil_checked_at, datetime.datetime)
    assert fast.civil_checked_at.tzinfo is not None
    assert applicant_row_of_user(UserFactory()) is None


def test_applicant_row_for_update_equals_the_querysets_row():
    applicant = ApplicantFactory()
    with transaction.atomic():
        fast = applicant_row_of_user_for_update(applicant.user)
        slow = Applicant.objects.select_for_update().get(user_id=applicant.user_id)
    _same_instance(fast, slow)


def test_a_locking_read_outside_a_transaction_is_refused_as_the_orm_refuses_it(transactional_db):
    applicant = ApplicantFactory()
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no row locks: both read without one")
    reader = RowReader(Applicant, [("user", "exact")], limit=1, for_update=True)
    with pytest.raises(TransactionManagementError):
        list(Applicant.objects.select_for_update().filter(user_id=applicant.user_id))
    with pytest.raises(TransactionManagementError):
        reader.first(applicant.user_id)


def test_user_get_by_pk_equals_the_querysets_get():
    user = UserFactory(first_name="Budi", language="en", last_login=timezone.now())
    slow = User.objects.filter(pk=user.pk).get()
    for key in (user.pk, str(user.pk)):
        _same_instance(User.objects.get(pk=key), slow)
        _same_instance(User.objects.get(id=key), slow)
    with pytest.raises(User.DoesNotExist, match="User matching query does not exist"):
        User.objects.get(pk=user.pk + 1000)
    with pytest.raises(ValueError, match="expected a number"):
        User.objects.filter(pk="abc").get()
    with pytest.raises(ValueError, match="expected a number"):
        User.objects.get(pk="abc")
    # Other lookups are the queryset's.
    assert User.objects.get(email=user.email) == user
    assert User.objects.get(pk=user.pk, is_active=True) == user


def _signed_in_session(store_class, user) -> str:
    store = store_class()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store["other"] = {"nested": [1, "dua"]}
    store.create()
    return store.session_key


def test_sessions_read_the_same_as_djangos_database_store_both_ways():
    user = UserFactory()
    for writer, reader in (
        (DjangoStore, SessionStore),
        (SessionStore, DjangoStore),
        (SessionStore, SessionStore),
    ):
        key = _signed_in_session(writer, user)
        assert reader(key).load() == DjangoStore(key).load()
        assert reader(key)[SESSION_KEY] == str(user.pk)


def test_an_expired_or_unknown_session_loads_empty_and_forgets_its_key():
    user = UserFactory()
    key = _signed_in_session(SessionStore, user)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    for store_class in (DjangoStore, SessionStore):
        store = store_class(key)
        assert store.load() == {}
        assert store.session_key is None
        unknown = store_class("x" * 32)
        assert unknown.load() == {}
        assert unknown.session_key is None


def test_session_update_writes_what_djangos_store_writes():
    user = UserFactory()
    key = _signed_in_session(SessionStore, user)
    store = SessionStore(key)
    store["seen"] = 123
    store.set_expiry(600)
    store.save()
    row = Session.objects.get(session_key=key)
    assert DjangoStore(key).load()["seen"] == 123
    assert abs((row.expire_date - timezone.now()).total_seconds() - 600) < 60
    assert Session.objects.count() == 1  # updated in place, no new row


def test_saving_a_session_deleted_meanwhile_fails_as_djangos_store_does():
    user = UserFactory()
    for store_class in (DjangoStore, SessionStore):
        key = _signed_in_session(store_class, user)
        store = store_class(key)
        store["x"] = 1
        Session.objects.filter(session_key=key).delete()
        with pytest.raises(UpdateError):
            store.save()


def test_a_signed_in_request_uses_the_session_and_a_logout_ends_it(client):
    user = UserFactory()
    client.force_login(user)
    assert client.session.__class__ is SessionStore
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.context["user"] == user
    client.post(reverse("account_logout"))
    assert client.get(reverse("dashboard")).status_code == 302
