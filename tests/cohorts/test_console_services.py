"""The console changes waves, quotas and programme settings only through services."""

import datetime
import io
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from cohorts import selection, services
from cohorts.enums import RunKind, WaveStatus
from cohorts.models import Programme, ProvinceQuota, Wave
from prakerja.models import AuditEntry
from registration.enums import ImportStatus
from registration.models import ImportJob
from tests.cohorts.factories import WaveFactory, pool, programme
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def officer(role="Programme Officer"):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def closed_wave():
    programme()
    now = timezone.now().replace(microsecond=0)
    wave = WaveFactory(
        status=WaveStatus.CLOSED,
        total_quota=2,
        opens_at=now - datetime.timedelta(days=3),
        closes_at=now - datetime.timedelta(days=1),
    )
    pool(wave, district_code="32.75.01", count=3)
    return wave


def commit_selection(wave, seed="kopi"):
    run = services.selection_run_request(wave=wave, kind=RunKind.SELECTION, seed=seed)
    services.selection_run_execute(run_id=run.pk)
    wave.refresh_from_db()
    assert wave.selected_at is not None


def wave_form_data(client, wave, **changes):
    response = client.get(reverse("admin:cohorts_wave_change", args=[wave.pk]))
    data = {}
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    local = timezone.localtime
    data |= {
        "number": wave.number,
        "name": wave.name,
        "opens_at_0": local(wave.opens_at).strftime("%Y-%m-%d"),
        "opens_at_1": local(wave.opens_at).strftime("%H:%M:%S"),
        "closes_at_0": local(wave.closes_at).strftime("%Y-%m-%d"),
        "closes_at_1": local(wave.closes_at).strftime("%H:%M:%S"),
        "total_quota": wave.total_quota,
        "max_per_kk": wave.max_per_kk,
        "purchase_days": wave.purchase_days,
    }
    return data | changes


def test_console_changes_wave_rules_through_the_service_with_before_and_after(client, closed_wave):
    client.force_login(officer())
    url = reverse("admin:cohorts_wave_change", args=[closed_wave.pk])
    response = client.post(url, wave_form_data(client, closed_wave, total_quota=5, max_per_kk=1))
    assert response.status_code == 302
    closed_wave.refresh_from_db()
    assert (closed_wave.total_quota, closed_wave.max_per_kk) == (5, 1)
    entry = AuditEntry.objects.get(action="cohorts.wave_changed")
    assert entry.data == {"changes": {"total_quota": [2, 5], "max_per_kk": [2, 1]}}


def test_wave_rules_after_a_committed_selection_are_refused_and_the_selection_still_verifies(
    client, closed_wave
):
    commit_selection(closed_wave)
    client.force_login(officer())
    url = reverse("admin:cohorts_wave_change", args=[closed_wave.pk])
    for change in ({"total_quota": 3}, {"max_per_kk": 1}):
        response = client.post(url, wave_form_data(client, closed_wave, **change))
        assert response.status_code == 200
        assert "tidak dapat diubah lagi" in response.content.decode()
    closed_wave.refresh_from_db()
    assert (closed_wave.total_quota, closed_wave.max_per_kk) == (2, 2)
    with pytest.raises(services.CohortError):
        services.wave_rules_set(wave=closed_wave, actor=None, total_quota=3)
    # A name change is still fine.
    services.wave_rules_set(wave=closed_wave, actor=None, name="Gelombang Baru")
    verification = selection.selection_verify(wave=closed_wave)
    assert verification["selection_matches"] is True
    assert verification["fingerprint_matches"] is True


def test_quota_page_sets_quotas_through_the_service_and_refuses_after_commit(client, closed_wave):
    client.force_login(officer())
    url = reverse("admin:cohorts_wave_quotas", args=[closed_wave.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"q_32": "1", "q_31": "1"})
    assert response.status_code == 302
    assert dict(ProvinceQuota.objects.values_list("province_id", "quota")) == {"31": 1, "32": 1}
    entry = AuditEntry.objects.get(action="cohorts.wave_quotas_set")
    assert entry.data == {"changes": {"31": [None, 1], "32": [None, 1]}}

    commit_selection(closed_wave)
    response = client.post(url, {"q_32": "99999"}, follow=True)
    assert "tidak dapat diubah lagi" in response.content.decode()
    assert dict(ProvinceQuota.objects.values_list("province_id", "quota")) == {"31": 1, "32": 1}
    assert selection.selection_verify(wave=closed_wave)["selection_matches"] is True


def test_province_quota_inline_and_list_do_not_write(client, closed_wave):
    client.force_login(officer())
    assert client.get(reverse("admin:cohorts_provincequota_add")).status_code == 403
    page = client.get(reverse("admin:cohorts_wave_change", args=[closed_wave.pk]))
    quota_formset = next(f for f in page.context["inline_admin_formsets"] if f.opts.model is ProvinceQuota)
    assert quota_formset.has_add_permission is False
    assert quota_formset.has_change_permission is False


def test_kyc_reviewer_cannot_open_the_quota_import_or_change_quotas(client, closed_wave):
    client.force_login(officer("KYC Reviewer"))
    assert client.get(reverse("admin:cohorts_provincequota_import")).status_code == 403
    response = client.post(reverse("admin:cohorts_wave_quotas", args=[closed_wave.pk]), {"q_32": "99999"})
    assert response.status_code == 403
    assert not ProvinceQuota.objects.exists()


def upload(client, url, name, content: bytes):
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def test_quota_import_runs_on_the_pipeline_and_reports_a_repeated_key(
    client, closed_wave, django_capture_on_commit_callbacks
):
    client.force_login(officer())
    url = reverse("admin:cohorts_provincequota_import")
    csv = (
        f"wave,province,quota\n{closed_wave.number},32,150\n{closed_wave.number},99,10\n"
        f"{closed_wave.number},32,7\n{closed_wave.number},31,abc\n{closed_wave.number},31,20\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, url, "kuota.csv", csv.encode())
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("admin:cohorts_provincequota_import_job", args=[job.pk])
    job.refresh_from_db()
    assert job.kind == "province_quotas"
    assert (job.status, job.valid_rows, job.error_count) == (ImportStatus.VALIDATED, 2, 3)
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (3, "province"),
        (4, "wave, province"),
        (5, "quota"),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Sama dengan baris 2" in page
    assert not ProvinceQuota.objects.exists()  # the dry run writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "confirm"})
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.summary == {"imported": 2, "created": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert dict(ProvinceQuota.objects.values_list("province_id", "quota")) == {"32": 150, "31": 20}
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "registration.import_uploaded",
        "registration.import_confirmed",
        "cohorts.wave_quotas_imported",
        "registration.import_finished",
    ]


def test_quota_import_for_a_committed_wave_is_a_row_error(
    client, closed_wave, django_capture_on_commit_callbacks
):
    commit_selection(closed_wave)
    client.force_login(officer())
    with django_capture_on_commit_callbacks(execute=True):
        upload(
            client,
            reverse("admin:cohorts_provincequota_import"),
            "k.csv",
            f"wave,province,quota\n{closed_wave.number},32,5\n".encode(),
        )
    job = ImportJob.objects.get()
    assert (job.valid_rows, job.error_count) == (0, 1)
    assert job.errors[0]["column"] == "wave"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "kuota.csv",
            "wave;province;quota\n1;32;5\n".encode("latin-1") + b"\xe9\xff\n",
            "tidak disimpan sebagai teks UTF-8",
        ),
        ("kuota.csv", b"gelombang_x,prov,jumlah\n1,32,5\n", "Kolom yang tidak ada: wave, province, quota"),
        ("kuota.csv", b"\n\n", "Berkas kosong."),
        ("kuota.xlsx", b"PK\x03\x04 not a workbook", "bukan berkas Excel (.xlsx)"),
    ],
)
def test_a_broken_quota_file_fails_with_a_clear_message(
    client, closed_wave, django_capture_on_commit_callbacks, name, content, message
):
    client.force_login(officer())
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, reverse("admin:cohorts_provincequota_import"), name, content)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert message in page.content.decode()


def test_not_a_spreadsheet_is_refused_at_upload(client, closed_wave):
    client.force_login(officer())
    response = upload(client, reverse("admin:cohorts_provincequota_import"), "kuota.pdf", b"%PDF-1.4")
    assert response.status_code == 200
    assert "Unggah berkas .csv atau .xlsx" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_programme_settings_are_saved_through_the_service_with_before_and_after(client):
    programme()
    client.force_login(officer())
    url = reverse("admin:cohorts_programme_change", args=[1])
    data = {
        "balance_amount": "1000000",
        "end_date": "2030-12-31",
        "training_incentive_amount": "700000",
        "training_incentive_count": "4",
        "training_incentive_interval_days": "30",
        "survey_incentive_amount": "50000",
        "survey_incentive_due_days": "14",
        "offline_approval_required": "on",
    }
    assert client.post(url, data).status_code == 302
    assert Programme.objects.get().training_incentive_amount == 700_000
    entry = AuditEntry.objects.get(action="cohorts.programme_changed")
    assert entry.data == {"changes": {"training_incentive_amount": [600_000, 700_000]}}
    with pytest.raises(services.CohortError):
        services.programme_settings_set(actor=None, survey_incentive_amount=0)
    with pytest.raises(services.CohortError):
        services.programme_settings_set(actor=None, end_date="2030-01-01")
    services.programme_settings_set(actor=None, end_date=datetime.date(2031, 1, 31))
    assert Programme.objects.get().end_date == datetime.date(2031, 1, 31)


# --- Races (PostgreSQL) ------------------------------------------------------------------


def _race(calls):
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


@pytest.mark.postgres
def test_two_concurrent_quota_imports_both_apply_and_both_are_audited(transactional_db):
    wave = WaveFactory(status=WaveStatus.CLOSED)
    results = _race(
        [
            lambda: services.wave_quotas_import(wave=wave, quotas={"32": 10}, actor=None),
            lambda: services.wave_quotas_import(wave=wave, quotas={"31": 20}, actor=None),
        ]
    )
    assert all(isinstance(result, dict) for result in results), results
    assert dict(ProvinceQuota.objects.values_list("province_id", "quota")) == {"31": 20, "32": 10}
    assert AuditEntry.objects.filter(action="cohorts.wave_quotas_imported").count() == 2


@pytest.mark.postgres
def test_a_quota_change_waiting_on_a_committing_selection_is_refused(transactional_db):
    wave = WaveFactory(status=WaveStatus.CLOSED)
    locked = threading.Event()
    release = threading.Event()

    def committing_selection():
        # What _selection_commit does: hold the wave's lock, then record the commit.
        with transaction.atomic():
            Wave.objects.select_for_update().get(pk=wave.pk)
            locked.set()
            release.wait(timeout=10)
            Wave.objects.filter(pk=wave.pk).update(selected_at=timezone.now(), status=WaveStatus.SELECTING)
        return "committed"

    def quota_change():
        locked.wait(timeout=10)
        threading.Timer(0.3, release.set).start()
        return services.wave_quotas_set(wave=wave, quotas={"32": 99_999}, actor=None)

    results = _race([committing_selection, quota_change])
    assert results[0] == "committed"
    assert isinstance(results[1], services.CohortError)
    assert not ProvinceQuota.objects.exists()


def test_demo_brings_wave_2_quotas_through_the_import_pipeline():
    call_command("load_demo", stdout=io.StringIO())
    job = ImportJob.objects.get(kind="province_quotas")
    assert (job.status, job.created_by.email, job.error_count) == (
        ImportStatus.DONE,
        "petugas@prakerja.test",
        0,
    )
    wave2 = Wave.objects.get(number=2)
    assert ProvinceQuota.objects.filter(wave=wave2).count() == job.valid_rows > 0
    call_command("load_demo", stdout=io.StringIO())  # idempotent
    assert ImportJob.objects.filter(kind="province_quotas").count() == 1


def test_programme_settings_first_save_and_an_out_of_range_value_is_a_message(client):
    client.force_login(officer())
    data = {
        "balance_amount": "1000000",
        "end_date": "2030-12-31",
        "training_incentive_amount": "600000",
        "training_incentive_count": "4",
        "training_incentive_interval_days": "30",
        "survey_incentive_amount": "50000",
        "survey_incentive_due_days": "14",
    }
    assert client.post(reverse("admin:cohorts_programme_add"), data).status_code == 302
    assert Programme.objects.get().end_date == datetime.date(2030, 12, 31)
    url = reverse("admin:cohorts_programme_change", args=[1])
    response = client.post(url, data | {"balance_amount": "20000000"}, follow=True)
    assert response.status_code == 200
    assert "harus bilangan bulat dari 1 sampai 10.000.000" in response.content.decode()
    assert Programme.objects.get().balance_amount == 1_000_000
