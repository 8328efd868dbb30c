"""Exclusion and priority lists: set-based re-screening, list imports with a dry run."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from prakerja.models import AuditEntry
from registration import imports
from registration.enums import ImportStatus, ScreeningCategory, ScreeningKind
from registration.models import Applicant, ImportJob, ScreeningEntry
from registration.services import (
    applicant_eligibility,
    screening_apply,
    screening_apply_all,
    screening_list_activate,
)
from tests.factories import ApplicantFactory
from tests.registration.factories import ScreeningListFactory, officer

pytestmark = pytest.mark.django_db


def fill(screening_list, niks, batch=None):
    batch = screening_list.current_batch if batch is None else batch
    ScreeningEntry.objects.bulk_create(
        ScreeningEntry(screening_list=screening_list, batch=batch, nik=n) for n in niks
    )


def test_exclusion_and_priority_are_applied_set_based(django_assert_max_num_queries):
    excluded, prioritised, both, neither = ApplicantFactory.create_batch(4)
    asn = ScreeningListFactory()
    phk = ScreeningListFactory(
        kind=ScreeningKind.PRIORITY,
        category=ScreeningCategory.LAID_OFF,
        name="PHK",
        source="BPJS Ketenagakerjaan",
    )
    fill(asn, [excluded.nik, both.nik, "3275011403959999"])
    fill(phk, [prioritised.nik, both.nik])
    # The same statements whatever the number of applicants: 2 per kind, in a transaction each
    # (on PostgreSQL each transaction also turns JIT off).
    with django_assert_max_num_queries(10 if connection.vendor == "postgresql" else 8):
        counts = screening_apply()
    assert counts == {"exclusion_set": 2, "exclusion_cleared": 0, "priority_set": 2, "priority_cleared": 0}
    rows = {
        a.pk: (a.is_excluded, a.exclusion_reason, a.exclusion_list_id, a.is_priority, a.priority_source)
        for a in Applicant.objects.all()
    }
    assert rows[excluded.pk] == (True, "Terdaftar sebagai ASN", asn.pk, False, "")
    assert rows[prioritised.pk] == (False, "", None, True, "BPJS Ketenagakerjaan")
    assert rows[both.pk] == (True, "Terdaftar sebagai ASN", asn.pk, True, "BPJS Ketenagakerjaan")
    assert rows[neither.pk] == (False, "", None, False, "")
    # Running again changes nothing.
    assert screening_apply() == {
        "exclusion_set": 0,
        "exclusion_cleared": 0,
        "priority_set": 0,
        "priority_cleared": 0,
    }


def test_deactivating_a_list_clears_its_applicants():
    applicant = ApplicantFactory()
    asn = ScreeningListFactory()
    fill(asn, [applicant.nik])
    screening_apply()
    counts = screening_list_activate(screening_list=asn, active=False, actor=officer())
    assert counts["exclusion_cleared"] == 1
    applicant.refresh_from_db()
    assert (applicant.is_excluded, applicant.exclusion_reason, applicant.exclusion_list_id) == (
        False,
        "",
        None,
    )


def test_only_the_current_batch_counts():
    applicant = ApplicantFactory()
    asn = ScreeningListFactory()
    fill(asn, [applicant.nik], batch=asn.current_batch + 1)  # an import still running
    assert screening_apply()["exclusion_set"] == 0


def test_excluded_applicant_is_not_eligible_with_the_lists_reason():
    applicant = ApplicantFactory()
    fill(ScreeningListFactory(reason="Terdaftar sebagai anggota TNI/Polri"), [applicant.nik])
    screening_apply_all()
    applicant.refresh_from_db()
    eligibility = applicant_eligibility(applicant=applicant)
    assert eligibility.eligible is False
    assert [(r.code, r.message) for r in eligibility.reasons] == [
        ("excluded", "Anda tidak memenuhi syarat: Terdaftar sebagai anggota TNI/Polri.")
    ]
    assert AuditEntry.objects.filter(action="registration.screening_apply").count() == 1


def test_a_new_profile_is_screened_at_once(django_capture_on_commit_callbacks):
    from registration.services import applicant_profile_save
    from tests.factories import UserFactory
    from tests.registration.factories import profile_input

    data = profile_input()
    fill(ScreeningListFactory(), [data.nik])
    applicant = applicant_profile_save(user=UserFactory(), data=data)
    applicant.refresh_from_db()
    assert applicant.is_excluded is True


# --- List import (admin) -------------------------------------------------------------------


def csv_upload(text: str, name: str = "asn.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def xlsx_upload(rows: list[list]) -> SimpleUploadedFile:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("list.xlsx", buffer.getvalue())


def test_list_import_dry_run_then_confirm(django_capture_on_commit_callbacks):
    listed, old = ApplicantFactory.create_batch(2)
    asn = ScreeningListFactory()
    fill(asn, [old.nik])
    screening_apply()
    staff = officer()
    text = f"nik\n{listed.nik}\n3275 0114 0395 9998\n12345\n{listed.nik}\nABCDEFGHIJKLMNOP\n"
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(
            kind="screening_list", upload=csv_upload(text), user=staff, screening_list=asn
        )
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED
    assert (job.total_rows, job.valid_rows, job.error_count) == (5, 3, 2)
    assert job.errors == [
        {"row": 4, "column": "nik", "message": "NIK terdiri dari tepat 16 digit (0-9)."},
        {"row": 6, "column": "nik", "message": "NIK terdiri dari tepat 16 digit (0-9)."},
    ]
    # The dry run changed nothing.
    assert list(ScreeningEntry.objects.values_list("nik", flat=True)) == [old.nik]
    with django_capture_on_commit_callbacks(execute=True):
        assert imports.import_job_confirm(job=job, actor=staff) is True
    job.refresh_from_db()
    asn.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert sorted(ScreeningEntry.objects.values_list("nik", flat=True)) == sorted(
        [listed.nik, "3275011403959998"]
    )
    assert (asn.entry_count, asn.current_batch) == (2, 1)
    assert job.summary == {
        "niks": 2,
        "exclusion_set": 1,
        "exclusion_cleared": 1,
        "priority_set": 0,
        "priority_cleared": 0,
    }
    assert Applicant.objects.get(pk=listed.pk).is_excluded is True
    assert Applicant.objects.get(pk=old.pk).is_excluded is False
    assert not job.file  # the uploaded file (full NIKs) is deleted once imported
    # Confirming twice does nothing.
    assert imports.import_job_confirm(job=job, actor=staff) is False


def test_list_import_reads_xlsx_with_numeric_cells(django_capture_on_commit_callbacks):
    asn = ScreeningListFactory()
    upload = xlsx_upload([["NIK"], [3275011403950001], ["3275011403950002"], [None]])
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(
            kind="screening_list", upload=upload, user=officer(), screening_list=asn
        )
    job.refresh_from_db()
    assert (job.status, job.valid_rows, job.error_count) == ("validated", 2, 0)


def test_list_import_without_nik_column_fails_with_a_clear_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(
            kind="screening_list",
            upload=csv_upload("nomor\n1\n"),
            user=officer(),
            screening_list=ScreeningListFactory(),
        )
    job.refresh_from_db()
    assert (job.status, job.failure) == (
        "failed",
        "Baris pertama harus berisi nama kolom. Kolom yang tidak ada: nik.",
    )


def test_import_rejects_other_file_types():
    with pytest.raises(imports.ImportFileError):
        imports.import_job_create(
            kind="screening_list",
            upload=csv_upload("x", name="list.pdf"),
            user=officer(),
            screening_list=ScreeningListFactory(),
        )


def test_cancel_a_checked_import(django_capture_on_commit_callbacks):
    staff = officer()
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(
            kind="screening_list",
            upload=csv_upload("nik\n3275011403950001\n"),
            user=staff,
            screening_list=ScreeningListFactory(),
        )
    assert imports.import_job_cancel(job=job, actor=staff) is True
    job.refresh_from_db()
    assert job.status == "cancelled" and not job.file
    assert not ScreeningEntry.objects.exists()


def test_admin_list_import_pages(client, django_capture_on_commit_callbacks):
    staff = officer()
    client.force_login(staff)
    asn = ScreeningListFactory()
    page = client.get(reverse("admin:registration_screeninglist_import", args=[asn.pk]))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:registration_screeninglist_import", args=[asn.pk]),
            {"file": csv_upload("nik\n3275011403950001\n123\n")},
        )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("admin:registration_screeninglist_import_job", args=[job.pk])
    html = client.get(response["Location"]).content.decode()
    assert "Sudah diperiksa: menunggu konfirmasi" in html
    assert "NIK terdiri dari tepat 16 digit (0-9)." in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "confirm"})
    job.refresh_from_db()
    assert job.status == "done"
    assert "Selesai" in client.get(response["Location"]).content.decode()


def test_disnaker_staff_cannot_import_lists(client):
    from tests.registration.factories import disnaker_user

    client.force_login(disnaker_user())
    asn = ScreeningListFactory()
    response = client.get(reverse("admin:registration_screeninglist_import", args=[asn.pk]))
    assert response.status_code in (302, 403)
    assert not ImportJob.objects.exists()


def test_list_admin_fills_the_reason_from_the_category(client):
    client.force_login(officer())
    response = client.post(
        reverse("admin:registration_screeninglist_add"),
        {
            "kind": "exclusion",
            "category": "tni_polri",
            "name": "TNI/Polri",
            "source": "Mabes",
            "reference_date": "2026-10-01",
            "reason": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    from registration.models import ScreeningList

    assert ScreeningList.objects.get().reason == "Anggota TNI/Polri"


def test_deactivating_a_list_in_its_form_re_screens_through_the_service(client):
    applicant = ApplicantFactory()
    asn = ScreeningListFactory()
    fill(asn, [applicant.nik])
    screening_apply()
    applicant.refresh_from_db()
    assert applicant.is_excluded is True
    client.force_login(officer())
    response = client.post(
        reverse("admin:registration_screeninglist_change", args=[asn.pk]),
        {
            "kind": asn.kind,
            "category": asn.category,
            "name": asn.name,
            "source": asn.source,
            "reference_date": asn.reference_date.isoformat(),
            "reason": asn.reason,
            "is_active": "",
        },
    )
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert (applicant.is_excluded, applicant.exclusion_list_id) == (False, None)
    entry = AuditEntry.objects.get(action="registration.screening_list_changed")
    assert entry.data == {"changes": {"is_active": ["True", "False"]}}


def test_profile_save_applies_the_lists_as_the_set_based_pass_would():
    import datetime

    from registration.services import applicant_profile_save
    from tests.factories import UserFactory
    from tests.registration.factories import profile_input

    data = profile_input()
    later = ScreeningListFactory(
        name="ASN 2", reason="Tercatat di daftar kedua", reference_date=datetime.date(2026, 11, 1)
    )
    earlier = ScreeningListFactory()
    inactive = ScreeningListFactory(name="Lama", reason="Daftar nonaktif", is_active=False)
    stale = ScreeningListFactory(
        name="Batch lama", reason="Batch lama", reference_date=datetime.date(2026, 1, 1)
    )
    phk = ScreeningListFactory(
        kind=ScreeningKind.PRIORITY, category=ScreeningCategory.LAID_OFF, source="BPJS"
    )
    for screening_list in (later, earlier, inactive, phk):
        fill(screening_list, [data.nik])
    fill(stale, [data.nik], batch=stale.current_batch + 1)  # not the current batch: ignored
    applicant = applicant_profile_save(user=UserFactory(), data=data)
    applicant.refresh_from_db()
    assert (applicant.is_excluded, applicant.exclusion_list_id, applicant.exclusion_reason) == (
        True,
        earlier.pk,
        "Terdaftar sebagai ASN",
    )
    assert (applicant.is_priority, applicant.priority_list_id, applicant.priority_source) == (
        True,
        phk.pk,
        "BPJS",
    )
    # The set-based pass finds nothing to change.
    assert set(screening_apply(applicant_ids=[applicant.pk]).values()) == {0}
    # Saved again once the lists no longer match: the flags are cleared.
    actor = officer()
    for screening_list in (later, earlier, phk):
        screening_list_activate(screening_list=screening_list, active=False, actor=actor)
    ScreeningEntry.objects.filter(nik=data.nik).delete()
    applicant_profile_save(user=applicant.user, data=profile_input(address="Jl. Baru 2"))
    applicant.refresh_from_db()
    assert (applicant.is_excluded, applicant.is_priority, applicant.exclusion_reason) == (False, False, "")


def test_the_family_card_lock_reads_the_lists_as_screening_values_does():
    """The profile save takes the KK member count and the lists in one statement: same lists, same count."""
    import datetime

    from django.db import transaction

    from registration.services import RegistrationError, _lock_family_card, screening_values

    applicant = ApplicantFactory()
    later = ScreeningListFactory(name="ASN 2", reason="Kedua", reference_date=datetime.date(2026, 11, 1))
    earlier = ScreeningListFactory(reference_date=datetime.date(2026, 3, 1))
    inactive = ScreeningListFactory(name="Lama", reason="Nonaktif", is_active=False)
    stale = ScreeningListFactory(
        name="Batch lama", reason="Batch lama", reference_date=datetime.date(2026, 1, 1)
    )
    phk = ScreeningListFactory(
        kind=ScreeningKind.PRIORITY, category=ScreeningCategory.LAID_OFF, source="BPJS"
    )
    phk_later = ScreeningListFactory(
        kind=ScreeningKind.PRIORITY, category=ScreeningCategory.LAID_OFF, source="Dinas", name="PHK 2",
        reference_date=datetime.date(2026, 12, 1),
    )  # fmt: skip
    fill(later, [applicant.nik, "3275011111110001"])
    fill(earlier, ["3275011111110001"])
    fill(inactive, [applicant.nik])
    fill(stale, [applicant.nik], batch=stale.current_batch + 1)
    fill(phk, ["3275011111110002"])
    fill(phk_later, [applicant.nik, "3275011111110002"])
    for nik in (applicant.nik, "3275011111110001", "3275011111110002", "3275019999990009"):
        for user_id in (None, applicant.user_id):
            with transaction.atomic():
                assert _lock_family_card(applicant.kk_number, user_id=user_id, nik=nik) == (
                    screening_values(nik)
                )
    # The count in that statement: the card's other members, the applicant itself left out.
    from django.conf import settings

    limit = settings.REGISTRATION_MAX_APPLICANTS_PER_KK
    for _ in range(limit - 1):
        ApplicantFactory(kk_number=applicant.kk_number)
    with transaction.atomic():  # limit members, this applicant among them: it may save again
        _lock_family_card(applicant.kk_number, user_id=applicant.user_id, nik=applicant.nik)
    with pytest.raises(RegistrationError) as refused, transaction.atomic():  # a newcomer: one too many
        _lock_family_card(applicant.kk_number, user_id=None, nik="3275019999990009")
    assert refused.value.codes == ["kk_full"]
