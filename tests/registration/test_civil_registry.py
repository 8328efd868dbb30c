"""The civil-registry check: both backends, the service's compare-and-swap, and a real worker."""

import datetime

import pytest
from django.db import transaction

from prakerja.models import AuditEntry, Notification
from registration import civil_registry
from registration.enums import CivilRegistryStatus
from registration.models import Applicant
from registration.services import CivilRegistryUnavailable, applicant_civil_check, applicant_profile_save
from tests.conftest import wait_until
from tests.factories import ApplicantFactory, UserFactory
from tests.http_stub import JsonStub
from tests.registration.factories import civil_record_for, profile_input

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1995, 3, 14)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("Siti Nurhaliza", "SITI NURHALIZA", True),
        ("  siti   nurhaliza ", "Siti Nurhaliza", True),
        ("Siti\u00a0Nurhaliza", "Siti Nurhaliza", True),
        ("Siti Nurhalisa", "Siti Nurhaliza", False),
        ("Siti", "Siti Nurhaliza", False),
    ],
)
def test_names_match_ignoring_case_and_spaces(left, right, same):
    assert civil_registry.names_match(left, right) is same


def test_local_backend_answers():
    data = profile_input()
    civil_record_for(data)
    backend = civil_registry.LocalTableBackend()
    assert backend.verify(data.nik, data.kk_number, "budi  SANTOSO", BIRTH).status == "verified"
    result = backend.verify(data.nik, "3275010101100099", "Budi Santosa", datetime.date(1995, 3, 15))
    assert (result.status, result.mismatch_fields) == ("mismatch", ["kk_number", "full_name", "birth_date"])
    assert backend.verify("3275011403950999", data.kk_number, "Budi", BIRTH).status == "not_found"


@pytest.fixture
def registry_server(settings):
    """A loopback stand-in for a Dukcapil gateway."""
    with JsonStub() as stub:
        settings.CIVIL_REGISTRY_BACKEND = "registration.civil_registry.HttpJsonBackend"
        settings.CIVIL_REGISTRY_URL = stub.url("/verify")
        settings.CIVIL_REGISTRY_USERNAME = "prakerja"
        settings.CIVIL_REGISTRY_PASSWORD = "rahasia"
        settings.CIVIL_REGISTRY_HTTP_RETRIES = 0
        settings.CIVIL_REGISTRY_TIMEOUT = 2
        yield stub


@pytest.mark.parametrize(
    ("answer", "status", "fields"),
    [
        ((200, {"found": True, "match": {"kk": True, "name": True, "birth_date": True}}), "verified", []),
        (
            (200, {"found": True, "match": {"kk": True, "name": False, "birth_date": False}}),
            "mismatch",
            ["full_name", "birth_date"],
        ),
        ((200, {"found": False}), "not_found", []),
        ((404, {"found": False}), "not_found", []),
        ((503, {"error": "busy"}), "unavailable", []),
        ((401, {"error": "auth"}), "unavailable", []),
        ((200, None), "unavailable", []),
        ((200, {"found": True}), "unavailable", []),
    ],
)
def test_http_backend(registry_server, answer, status, fields):
    registry_server.answers = [answer]
    result = civil_registry.verify("3275011403950001", "3275010101100001", " budi  santoso", BIRTH)
    assert (result.status, result.mismatch_fields) == (status, fields)
    assert registry_server.requests[0]["body"] == {
        "nik": "3275011403950001",
        "kk": "3275010101100001",
        "name": "BUDI SANTOSO",
        "birth_date": "1995-03-14",
    }
    assert registry_server.requests[0]["auth"] == "Basic cHJha2VyamE6cmFoYXNpYQ=="


def test_http_backend_retries_server_errors(registry_server, settings):
    settings.CIVIL_REGISTRY_HTTP_RETRIES = 2
    registry_server.answers = [(503, {}), (502, {}), (200, {"found": False})]
    result = civil_registry.verify("3275011403950001", "3275010101100001", "Budi", BIRTH)
    assert result.status == "not_found"
    assert len(registry_server.requests) == 3


def test_http_backend_unreachable_is_unavailable(settings):
    settings.CIVIL_REGISTRY_BACKEND = "registration.civil_registry.HttpJsonBackend"
    settings.CIVIL_REGISTRY_URL = "http://127.0.0.1:9/verify"  # discard port: nothing listens
    settings.CIVIL_REGISTRY_HTTP_RETRIES = 0
    result = civil_registry.verify("3275011403950001", "3275010101100001", "Budi", BIRTH)
    assert (result.status, result.detail) == ("unavailable", "ConnectionError")


def test_unavailable_is_recorded_as_waiting_not_rejection(settings):
    settings.CIVIL_REGISTRY_BACKEND = "registration.civil_registry.HttpJsonBackend"
    settings.CIVIL_REGISTRY_URL = "http://127.0.0.1:9/verify"
    settings.CIVIL_REGISTRY_HTTP_RETRIES = 0
    applicant = ApplicantFactory(civil_status=CivilRegistryStatus.PENDING)
    with pytest.raises(CivilRegistryUnavailable):
        applicant_civil_check(applicant_id=applicant.pk)
    applicant.refresh_from_db()
    assert applicant.civil_status == "unavailable"
    from registration.services import applicant_eligibility

    assert applicant_eligibility(applicant=applicant).codes == ["civil_pending"]
    assert not Notification.objects.exists()


def test_check_result_is_dropped_when_the_profile_changed_meanwhile(monkeypatch):
    applicant = ApplicantFactory(civil_status=CivilRegistryStatus.PENDING)

    def edit_during_check(nik, kk, name, birth_date):
        Applicant.objects.filter(pk=applicant.pk).update(full_name="Nama Baru")
        return civil_registry.CivilResult("verified")

    monkeypatch.setattr(civil_registry, "verify", edit_during_check)
    assert applicant_civil_check(applicant_id=applicant.pk) == "stale"
    applicant.refresh_from_db()
    assert applicant.civil_status == "pending"


def test_check_runs_only_for_waiting_applicants():
    applicant = ApplicantFactory(civil_status=CivilRegistryStatus.MISMATCH)
    assert applicant_civil_check(applicant_id=applicant.pk) == "skipped"
    assert applicant_civil_check(applicant_id=999999) == "gone"


def test_mismatch_is_emailed_with_a_masked_nik(django_capture_on_commit_callbacks, mailoutbox):
    data = profile_input()
    civil_record_for(data, birth_place="Bekasi", kk_number="3275010101100099")
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        applicant_profile_save(user=user, data=data)
    applicant = Applicant.objects.get(user=user)
    assert (applicant.civil_status, applicant.civil_mismatch_fields) == ("mismatch", ["kk_number"])
    assert [m.subject for m in mailoutbox] == ["[Prakerja] Pemeriksaan NIK Anda perlu perhatian"]
    assert applicant.masked_nik in mailoutbox[0].body and data.nik not in mailoutbox[0].body
    entry = AuditEntry.objects.get(action="registration.civil_check")
    assert entry.data == {"result": "mismatch", "fields": ["kk_number"]}


def test_saving_again_after_not_found_checks_again_once_a_minute(django_capture_on_commit_callbacks):
    """The dashboard's "Periksa NIK saya": the record may have been fixed at the Dukcapil office."""
    data = profile_input()
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        applicant_profile_save(user=user, data=data)
    assert Applicant.objects.get(user=user).civil_status == "not_found"

    civil_record_for(data)  # the office corrected the record, a few minutes later
    checked = Applicant.objects.get(user=user).civil_checked_at
    Applicant.objects.filter(user=user).update(civil_checked_at=checked - datetime.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        saved = applicant_profile_save(user=user, data=data)  # nothing changed in the form
    assert saved.civil_status == "pending"
    assert Applicant.objects.get(user=user).civil_status == "verified"

    # Not a way to hammer Dukcapil: a second save within the minute does not ask again.
    Applicant.objects.filter(user=user).update(civil_status="not_found")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        saved = applicant_profile_save(user=user, data=data)
    assert saved.civil_status == "not_found" and callbacks == []


def test_a_broker_outage_when_saving_does_not_lose_the_profile(
    django_capture_on_commit_callbacks, monkeypatch
):
    from registration import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is restarting")

    monkeypatch.setattr(tasks.civil_check_task, "delay", broker_down)
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        saved = applicant_profile_save(user=user, data=profile_input())  # no error for the applicant
    assert Applicant.objects.get(pk=saved.pk).civil_status == "pending"  # the sweeper takes it from here


def test_sweep_requeues_stale_checks(django_capture_on_commit_callbacks):
    from registration.services import civil_check_sweep

    data = profile_input()
    civil_record_for(data)
    applicant = ApplicantFactory(
        nik=data.nik, kk_number=data.kk_number, full_name=data.full_name, civil_status="pending"
    )
    Applicant.objects.filter(pk=applicant.pk).update(
        updated_at=applicant.updated_at - datetime.timedelta(hours=1)
    )
    assert civil_check_sweep() == 1
    applicant.refresh_from_db()
    assert applicant.civil_status == "verified"


# --- Through a real Celery worker ---------------------------------------------------------------


def _register(data, email):
    user = UserFactory(email=email)
    with transaction.atomic():
        return applicant_profile_save(user=user, data=data)


@pytest.mark.worker
def test_worker_records_verified_mismatch_and_not_found(celery_worker):
    verified, mismatch, unknown = (
        profile_input(serial=1, kk_number="3275010101100001"),
        profile_input(serial=2, kk_number="3275010101100002", full_name="Siti Aminah"),
        profile_input(serial=3, kk_number="3275010101100003"),
    )
    civil_record_for(verified, full_name="BUDI SANTOSO")
    civil_record_for(mismatch, full_name="Siti Aminah", birth_date=datetime.date(1995, 3, 15))
    ids = [_register(data, f"w{n}@example.id").pk for n, data in enumerate((verified, mismatch, unknown))]

    def done():
        rows = dict(Applicant.objects.filter(pk__in=ids).values_list("pk", "civil_status"))
        return all(status not in ("pending", "unavailable") for status in rows.values()) and rows

    rows = wait_until(done, message=f"the worker to check 3 applicants\n{celery_worker.output}")
    assert [rows[pk] for pk in ids] == ["verified", "mismatch", "not_found"]
    assert Applicant.objects.get(pk=ids[1]).civil_mismatch_fields == ["birth_date"]
    assert "registration.civil_check" in celery_worker.output
    assert verified.nik not in celery_worker.output  # the worker's log never shows a full NIK


@pytest.fixture
def worker_uses_http_registry(registry_server, monkeypatch):
    port = registry_server.port
    monkeypatch.setenv("CIVIL_REGISTRY_BACKEND", "registration.civil_registry.HttpJsonBackend")
    monkeypatch.setenv("CIVIL_REGISTRY_URL", f"http://127.0.0.1:{port}/verify")
    monkeypatch.setenv("CIVIL_REGISTRY_HTTP_RETRIES", "0")
    monkeypatch.setenv("CIVIL_REGISTRY_RETRY_BASE_SECONDS", "1")
    return registry_server


@pytest.mark.worker
def test_worker_retries_an_unavailable_registry(worker_uses_http_registry, celery_worker):
    registry_server = worker_uses_http_registry
    registry_server.answers = [
        (503, {"error": "busy"}),
        (503, {"error": "busy"}),
        (200, {"found": True, "match": {"kk": True, "name": True, "birth_date": True}}),
    ]
    applicant = _register(profile_input(), "retry@example.id")
    seen = wait_until(
        lambda: Applicant.objects.get(pk=applicant.pk).civil_status == "verified",
        message=f"the worker to retry until verified\n{celery_worker.output}",
    )
    assert seen
    assert len(registry_server.requests) == 3
    assert celery_worker.output.count("Retry in") == 2
    assert not Notification.objects.filter(user=applicant.user).exists()  # never told "rejected"
