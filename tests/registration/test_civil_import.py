"""Civil-registry records are imported on the ImportJob pipeline, through a service, with the profile's name rule."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from prakerja.models import AuditEntry
from registration.enums import ImportStatus
from registration.models import CivilRecord, ImportJob
from registration.services import clean_name, name_is_valid, profile_validate
from tests.conftest import wait_until
from tests.factories import UserFactory
from tests.registration.factories import CivilRecordFactory, disnaker_user, officer, profile_input

pytestmark = pytest.mark.django_db

IMPORT = "admin:registration_civilrecord_import"
HEADER = "nik,no_kk,nama,tempat_lahir,tanggal_lahir,jenis_kelamin\n"


def upload(client, content: str | bytes, name="dukcapil.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(reverse(IMPORT), {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_import_dry_run_reports_row_errors_in_indonesian_and_writes_nothing(
    client, django_capture_on_commit_callbacks
):
    client.force_login(officer())
    csv = HEADER + (
        "3275011403950001,3275010101100001,  Budi   Santoso ,Bekasi,14-03-1995,L\n"
        "32750114039500,3275010101100001,Ani,Bekasi,1995-03-14,P\n"
        "3275015403950002,3275010101100001,Ani,Bekasi,31-02-1995,X\n"
        "3275015403950003,3275010101100001,Ani 2 <script>,Bekasi,14-03-1995,P\n"
        "3275011403950001,3275010101100001,Budi Lain,Bekasi,14-03-1995,L\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, csv)
    job = ImportJob.objects.get()
    assert (job.kind, job.status, job.valid_rows, job.error_count) == (
        "civil_records",
        ImportStatus.VALIDATED,
        1,
        4,
    )
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (3, "nik"),
        (4, "tanggal_lahir"),
        (4, "jenis_kelamin"),
        (5, "nama"),
        (6, "nik"),
    ]
    html = client.get(response["Location"]).content.decode()
    assert "NIK terdiri dari tepat 16 digit (0-9)." in html
    assert "Tulis tanggal dengan format HH-BB-TTTT atau TTTT-BB-HH." in html
    assert "Tulis L (laki-laki) atau P (perempuan)." in html
    assert "Tulis nama dengan huruf seperti di KTP, tanpa angka atau simbol." in html
    assert "Sama dengan baris 2 (nik)" in html
    assert "3275011403950001" not in html
    assert not CivilRecord.objects.exists()


def test_confirmed_import_creates_and_updates_through_the_service_and_is_audited(
    client, django_capture_on_commit_callbacks
):
    existing = CivilRecordFactory(nik="3275015403950002", full_name="Ani Lama", gender="F")
    client.force_login(officer())
    csv = HEADER + (
        "3275011403950001,3275010101100001,Budi Santoso,Bekasi,14-03-1995,L\n"
        "3275015403950002,3275010101100001,Ani Baru,Bekasi,14-03-1995,P\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, csv)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "confirm"})
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE
    assert job.summary == {"imported": 2, "created": 1, "updated": 1, "unchanged": 0, "failed": 0}
    record = CivilRecord.objects.get(nik="3275011403950001")
    assert (record.full_name, record.gender, record.birth_date) == (
        "Budi Santoso",
        "M",
        datetime.date(1995, 3, 14),
    )
    existing.refresh_from_db()
    assert existing.full_name == "Ani Baru"
    imported = AuditEntry.objects.get(action="registration.civil_records_imported")
    assert imported.data["updated_niks"] == ["3275\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220002"]
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "registration.import_uploaded",
        "registration.import_confirmed",
        "registration.civil_records_imported",
        "registration.import_finished",
    ]
    page = client.get(response["Location"]).content.decode()
    assert "baris ditambahkan" in page


def test_a_latin1_file_says_it_is_not_utf8(client, django_capture_on_commit_callbacks):
    client.force_login(officer())
    csv = (HEADER + "3275011403950001,3275010101100001,Budi Santoso,Bekasi,14-03-1995,L\n").replace(
        "Bekasi", "Bekasí"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, csv.encode("latin-1"))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.FAILED
    assert "tidak disimpan sebagai teks UTF-8" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("role", ["KYC Reviewer", "Finance Officer", "Disnaker Staff"])
def test_only_roles_with_the_permission_reach_the_import(client, role):
    if role == "Disnaker Staff":
        user = disnaker_user("32")
    else:
        user = UserFactory(is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    assert client.get(reverse(IMPORT)).status_code == 403
    assert (
        upload(client, HEADER + "3275011403950001,3275010101100001,Budi,Bekasi,14-03-1995,L\n").status_code
        == 403
    )
    assert client.get(reverse("admin:registration_civilrecord_import_template")).status_code == 403
    assert not ImportJob.objects.exists()


def test_another_kinds_job_is_not_reachable_from_this_page(client, django_capture_on_commit_callbacks):
    client.force_login(officer())
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, HEADER)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(kind="province_quotas")
    assert client.get(reverse("admin:registration_civilrecord_import_job", args=[job.pk])).status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "Budi Santoso",
        "Siti Nur'aini",
        "M. Yusuf",
        "Ni Luh Putu-Ayu",
        "Budi2",
        "Budi_Santoso",
        "A",
        "<b>Ani</b>",
        "Ani@",
    ],
)
def test_import_and_profile_judge_a_name_by_the_same_rule(name):
    from registration.import_handlers import civil_rows_check
    from registration.imports import Row, RowErrors

    profile_ok = "full_name" not in profile_validate(data=profile_input(full_name=name)).errors
    errors = RowErrors()
    row = Row(2, {"nik": "3275011403950001", "no_kk": "3275010101100001", "nama": name,
                  "tempat_lahir": "Bekasi", "tanggal_lahir": "14-03-1995", "jenis_kelamin": "L"})  # fmt: skip
    import_ok = bool(civil_rows_check([row], errors))
    assert profile_ok == import_ok == name_is_valid(clean_name(name))


def test_console_form_uses_the_name_rule_and_the_service(client):
    client.force_login(officer(full_nik=True))
    data = {
        "nik": "3275011403950001",
        "kk_number": "3275010101100001",
        "full_name": "Budi 123",
        "birth_place": "Bekasi",
        "birth_date": "1995-03-14",
        "gender": "M",
    }
    response = client.post(reverse("admin:registration_civilrecord_add"), data)
    assert response.status_code == 200
    assert not CivilRecord.objects.exists()
    response = client.post(
        reverse("admin:registration_civilrecord_add"), data | {"full_name": " Budi  Santoso "}
    )
    assert response.status_code == 302
    assert CivilRecord.objects.get().full_name == "Budi Santoso"
    assert AuditEntry.objects.filter(action="registration.civil_records_imported").count() == 1


@pytest.mark.parametrize("jobs", [1, 3])
def test_import_page_lists_recent_jobs_in_constant_queries(client, django_assert_max_num_queries, jobs):
    user = officer()
    for n in range(jobs):
        ImportJob.objects.create(
            kind="civil_records", original_name=f"f{n}.csv", created_by=user, file="x.csv"
        )
    client.force_login(user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse(IMPORT))
    assert response.content.decode().count("f0.csv") == 1
    assert len(response.context["jobs"]) == jobs
    page = client.get(reverse("admin:registration_importjob_changelist")).content.decode()
    assert "Data kependudukan (Dukcapil)" in page


@pytest.mark.worker
def test_a_real_worker_checks_then_imports_behind_the_progress_page(client, celery_worker):
    client.force_login(officer())
    csv = HEADER + (
        "3275011403950001,3275010101100001,Budi Santoso,Bekasi,14-03-1995,L\n"
        "3275011403950001,3275010101100001,Budi Lain,Bekasi,14-03-1995,L\n"
    )
    response = upload(client, csv)
    job = ImportJob.objects.get()

    def status():
        return ImportJob.objects.get(pk=job.pk).status

    wait_until(lambda: status() == ImportStatus.VALIDATED, message=f"the dry run\n{celery_worker.output}")
    assert "Sama dengan baris 2 (nik)" in client.get(response["Location"]).content.decode()
    client.post(response["Location"], {"action": "confirm"})
    wait_until(lambda: status() == ImportStatus.DONE, message=f"the import\n{celery_worker.output}")
    assert CivilRecord.objects.get().full_name == "Budi Santoso"
