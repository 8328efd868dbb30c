"""Disnaker offline registration: staff pages limited to their province, imports, and the online claim."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from prakerja.models import User
from registration import imports
from registration.enums import Channel
from registration.models import Applicant, ImportJob
from registration.services import OFFLINE_EMAIL_DOMAIN, applicant_register_offline
from tests.factories import ApplicantFactory, UserFactory
from tests.registration.factories import disnaker_user, profile_input, profile_post

pytestmark = pytest.mark.django_db

PHONE = "+6281311112222"
HEADER = ",".join(imports.OFFLINE_COLUMNS)


def offline_row(nik, kk="3204050101100002", name="Siti Nurhaliza", birth="14-03-1995", gender="P",
                district="32.04.05", phone="081311112222", education="SMA", work="phk"):  # fmt: skip
    return ",".join(
        [
            nik,
            kk,
            name,
            "Bandung",
            birth,
            gender,
            '"Jl. Merdeka 1, RT 01/RW 02"',
            district,
            education,
            work,
            phone,
        ]
    )


def staff_post(**extra):
    data = profile_input(district_code="32.04.05", kk_number="3204050101100002")
    body = profile_post(data)
    body.update(phone="0813-1111-2222", paper_consent="on", **extra)
    return body


def test_staff_register_one_person(client, sms_outbox, django_capture_on_commit_callbacks):
    staff = disnaker_user("32")
    client.force_login(staff)
    assert "Daftarkan satu orang" in client.get(reverse("registration:staff_register")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration:staff_register"), staff_post())
    assert response["Location"] == reverse("registration:staff_home")
    applicant = Applicant.objects.get()
    assert (applicant.channel, applicant.registered_by, applicant.phone, applicant.phone_verified_at) == (
        Channel.OFFLINE, staff, PHONE, None,
    )  # fmt: skip
    assert applicant.user.email.endswith("@" + OFFLINE_EMAIL_DOMAIN)
    assert not applicant.user.has_usable_password()
    assert applicant.consent_at is not None and applicant.declarations_at is not None
    assert [m.to for m in sms_outbox] == [PHONE]
    assert "Didaftarkan di Disnaker?" in sms_outbox[0].body
    home = client.get(reverse("registration:staff_home")).content.decode()
    assert applicant.masked_nik in home and applicant.nik not in home


def test_staff_cannot_register_outside_their_province(client):
    client.force_login(disnaker_user("31"))  # DKI Jakarta staff, a Jawa Barat district
    response = client.post(reverse("registration:staff_register"), staff_post(province="31"))
    assert response.status_code == 200
    assert not Applicant.objects.exists()


def test_service_refuses_another_province():
    from registration.services import RegistrationError

    with pytest.raises(RegistrationError) as caught:
        applicant_register_offline(staff_user=disnaker_user("31"), data=profile_input(), phone=PHONE)
    assert caught.value.codes == ["district_not_in_province"]


def test_staff_pages_refuse_applicants_and_other_officers(client):
    from tests.registration.factories import officer

    for user in (UserFactory(), officer()):
        client.force_login(user)
        for name in ("staff_home", "staff_register", "staff_import"):
            assert client.get(reverse(f"registration:{name}")).status_code == 403


def test_staff_home_lists_only_their_province(client, django_assert_max_num_queries):
    staff = disnaker_user("32")
    client.force_login(staff)
    ApplicantFactory(channel=Channel.OFFLINE)
    other = ApplicantFactory(channel=Channel.OFFLINE, district_code="31.71.01")
    with django_assert_max_num_queries(30) as one:
        html = client.get(reverse("registration:staff_home")).content.decode()
    assert other.full_name not in html
    ApplicantFactory.create_batch(2, channel=Channel.OFFLINE)
    with django_assert_max_num_queries(30) as three:
        client.get(reverse("registration:staff_home"))
    assert len(one.captured_queries) == len(three.captured_queries)


def upload(text, name="peserta.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_spreadsheet_import_dry_run_row_errors_then_import(client, django_capture_on_commit_callbacks):
    staff = disnaker_user("32")
    ApplicantFactory(nik="3275011403950009")
    client.force_login(staff)
    rows = [
        HEADER,
        offline_row("3204055403950001"),  # ok
        offline_row("3204055403950001", phone="081311113333"),  # same NIK as row 2
        offline_row("3204051403950002", gender="P", phone="081311114444"),  # NIK says male
        offline_row("3275011403950009", gender="L", phone="081311115555"),  # already registered
        offline_row(
            "3171011708950003",
            gender="L",
            birth="17-08-1995",
            district="31.71.01",
            kk="3171010101100001",
            phone="081311116666",
        ),
        offline_row("3204051212900004", gender="L", birth="12/12/1990", phone="0812", work="bekerja"),
        offline_row(
            "3204051111900005",
            gender="L",
            birth="11-11-1990",
            phone="081311117777",
            education="S1",
            work="usaha mikro",
        ),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registration:staff_import"),
            {"file": upload("\n".join(rows) + "\n"), "paper_consent": "on"},
        )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("registration:staff_import_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.valid_rows, job.error_count) == ("validated", 7, 2, 5)
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (3, "nik"),
        (4, "jenis_kelamin"),
        (5, "nik"),
        (6, "kode_kecamatan"),
        (7, "no_hp"),
    ]
    assert job.errors[0]["message"] == "NIK sama dengan baris 2."
    html = client.get(response["Location"]).content.decode()
    assert "Daftarkan 2 orang" in html
    assert "Kecamatan ini tidak berada di provinsi Anda." in html
    assert not Applicant.objects.filter(channel=Channel.OFFLINE).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "confirm"})
    job.refresh_from_db()
    assert (job.status, job.summary) == ("done", {"created": 2, "skipped": 0, "failed": 0})
    assert sorted(Applicant.objects.filter(channel=Channel.OFFLINE).values_list("nik", flat=True)) == [
        "3204051111900005",
        "3204055403950001",
    ]
    # A redelivered task changes nothing.
    assert imports.import_job_run(job_id=job.pk) == "skipped"
    assert Applicant.objects.filter(channel=Channel.OFFLINE).count() == 2


def test_an_import_that_died_half_way_resumes_without_duplicates(django_capture_on_commit_callbacks):
    staff = disnaker_user("32")
    text = "\n".join([HEADER, offline_row("3204055403950001"), offline_row("3204051111900005", gender="L",
                      birth="11-11-1990", phone="081311117777")]) + "\n"  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(
            kind="offline", upload=upload(text), user=staff, province=staff.disnaker.province
        )
    job.refresh_from_db()
    imports.import_job_confirm(job=job, actor=staff)  # the run task is not executed: the worker "died"
    done_before_the_crash = profile_input(
        nik="3204055403950001",
        gender="F",
        district_code="32.04.05",
        kk_number="3204050101100002",
        full_name="Siti Nurhaliza",
    )
    applicant_register_offline(staff_user=staff, data=done_before_the_crash, phone=PHONE)
    assert imports.import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.summary == {"created": 1, "skipped": 1, "failed": 0}
    assert Applicant.objects.filter(channel=Channel.OFFLINE).count() == 2


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_csv_that_is_not_utf8_fails_with_a_message_that_says_so(
    client, encoding, django_capture_on_commit_callbacks
):
    """Excel's plain "CSV" is Latin-1: it used to garble names, or (UTF-16) report missing columns."""
    client.force_login(disnaker_user("32"))
    text = "\n".join([HEADER, offline_row("3204055403950001", name="Désirée Nurhaliza")]) + "\n"
    latin = SimpleUploadedFile("peserta.csv", text.encode(encoding), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registration:staff_import"), {"file": latin, "paper_consent": "on"})
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert job.failure.startswith("Berkas tidak disimpan sebagai teks UTF-8 (baris ")
    assert "CSV UTF-8 (Comma delimited)" in job.failure


def test_import_template_has_the_columns(client):
    client.force_login(disnaker_user("32"))
    response = client.get(reverse("registration:staff_import_template"))
    lines = response.content.decode().splitlines()
    assert lines[0] == HEADER


def test_import_page_of_another_province_is_not_found(client, django_capture_on_commit_callbacks):
    jabar = disnaker_user("32", email="jabar@example.id")
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(
            kind="offline", upload=upload(HEADER + "\n"), user=jabar, province=jabar.disnaker.province
        )
    client.force_login(disnaker_user("31", email="dki@example.id"))
    assert client.get(reverse("registration:staff_import_detail", args=[job.pk])).status_code == 404


def test_missing_columns_fail_the_file(client, django_capture_on_commit_callbacks):
    client.force_login(disnaker_user("32"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("registration:staff_import"), {"file": upload("nik,nama\n1,2\n"), "paper_consent": "on"}
        )
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert job.failure.startswith(
        "Baris pertama harus berisi nama kolom. Kolom yang tidak ada: no_kk, tempat_lahir"
    )


# --- Taking over an offline registration online ------------------------------------------------


def code_in(outbox):
    return re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)


def test_claim_moves_the_offline_record_to_the_new_account(
    client, sms_outbox, django_capture_on_commit_callbacks
):
    offline = applicant_register_offline(
        staff_user=disnaker_user("32"),
        data=profile_input(district_code="32.04.05", kk_number="3204050101100002"),
        phone=PHONE,
    )
    placeholder = offline.user
    person = UserFactory(email="siti@example.id")
    client.force_login(person)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Ambil alih pendaftaran saya" in dashboard
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration:claim"), {"nik": offline.nik, "phone": "0813 1111 2222"})
    assert response["Location"] == reverse("registration:claim_code")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration:claim_code"), {"code": code_in(sms_outbox)})
    assert response["Location"] == reverse("dashboard")
    offline.refresh_from_db()
    assert offline.user == person and offline.claimed_at is not None and offline.phone_verified_at is not None
    assert User.objects.get(pk=placeholder.pk).is_active is False


def test_claim_with_the_wrong_number_reveals_nothing(client):
    offline = applicant_register_offline(
        staff_user=disnaker_user("32"),
        data=profile_input(district_code="32.04.05", kk_number="3204050101100002"),
        phone=PHONE,
    )
    client.force_login(UserFactory())
    wrong_phone = client.post(reverse("registration:claim"), {"nik": offline.nik, "phone": "081399998888"})
    unknown_nik = client.post(
        reverse("registration:claim"), {"nik": "3275011403950002", "phone": "081311112222"}
    )
    message = "Kami tidak menemukan pendaftaran dari kantor Disnaker dengan NIK dan nomor HP ini."
    assert message in wrong_phone.content.decode() and message in unknown_nik.content.decode()


def test_online_applicants_cannot_be_claimed(client):
    online = ApplicantFactory(phone=PHONE)
    client.force_login(UserFactory())
    response = client.post(reverse("registration:claim"), {"nik": online.nik, "phone": PHONE})
    assert "Kami tidak menemukan pendaftaran" in response.content.decode()


def test_unticked_paper_consent_says_what_to_tick(client):
    client.force_login(disnaker_user("32"))
    body = staff_post()
    del body["paper_consent"]
    response = client.post(reverse("registration:staff_register"), body)
    assert response.status_code == 200
    assert response.context["form"].errors["paper_consent"] == [
        "Centang kotak ini setelah yang bersangkutan menandatangani formulir kertas dan Anda memeriksa KTP-nya."
    ]
    # What was typed stays.
    assert response.context["form"]["full_name"].value() == "Budi Santoso"
    response = client.post(reverse("registration:staff_import"), {"file": upload("nik\n")})
    assert response.context["form"].errors["paper_consent"] == [
        "Centang kotak ini setelah setiap orang dalam berkas menandatangani formulir kertas dan Anda memeriksa KTP mereka."
    ]
