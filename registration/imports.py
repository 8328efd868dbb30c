"""Spreadsheet imports (CSV/XLSX) that run in Celery with a dry run first.

Two kinds share one pipeline (``ImportJob``):

- an exclusion or priority list: one ``nik`` column, any number of rows; the
  new entries become the list's entries in one switch, then every applicant
  is re-screened (set-based);
- Disnaker offline registration: one person per row, in the staff member's
  province, through the same rules as the online profile.

upload -> ``import_job_validate`` (dry run: counts and row errors, nothing
written) -> the officer confirms -> ``import_job_run`` -> done. Progress is
written as the work goes so the progress page can show it.
"""

from __future__ import annotations

import csv
import datetime
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from prakerja.audit import audit_log
from prakerja.csvfiles import CsvNotUtf8, csv_text
from prakerja.spreadsheets import spreadsheet_csv
from registration.enums import ImportKind, ImportStatus
from registration.import_registry import RowHandler, import_handler
from registration.import_values import EXAMPLE_ROW, coded_value
from registration.models import Applicant, ImportJob, ScreeningEntry, ScreeningList
from registration.nik import nik_clean
from registration.phones import PhoneError, phone_parse
from registration.services import (
    ProfileInput,
    RegistrationError,
    applicant_register_offline,
    profile_validate,
    screening_apply,
)

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 500
CHUNK = 5000
PROGRESS_EVERY = 25
BATCH = 500  # rows a registered handler checks and writes at a time
ALLOWED_EXTENSIONS = (".csv", ".xlsx")

OFFLINE_COLUMNS = [
    "nik",
    "no_kk",
    "nama",
    "tempat_lahir",
    "tanggal_lahir",
    "jenis_kelamin",
    "alamat",
    "kode_kecamatan",
    "pendidikan",
    "status_pekerjaan",
    "no_hp",
]
COLUMN_ALIASES = {
    "kk": "no_kk",
    "nomor_kk": "no_kk",
    "nama_lengkap": "nama",
    "nomor_hp": "no_hp",
    "hp": "no_hp",
    "kecamatan": "kode_kecamatan",
}
# Accepted values of the coded columns (and their variants): registration/import_values.py


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong type, no header, missing column)."""


@dataclass
class Row:
    number: int  # as the person sees it in a spreadsheet: the header is row 1
    values: dict[str, str]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_key(name: str, aliases: dict[str, str] | None = None) -> str:
    key = "_".join(str(name or "").strip().lower().replace("-", " ").split())
    return (COLUMN_ALIASES if aliases is None else aliases).get(key, key)


def _csv_rows(handle) -> Iterator[list[str]]:
    try:
        text = csv_text(handle)
    except CsvNotUtf8 as exc:
        raise ImportFileError(str(exc)) from None
    sample = text.read(4096)
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(text, dialect)


def _xlsx_rows(handle) -> Iterator[list]:
    # openpyxl is heavy; loaded only for .xlsx files.
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same answer
        raise ImportFileError(gettext("The file is not a readable Excel (.xlsx) workbook.")) from exc
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def read_rows(handle, name: str, *, required, aliases: dict[str, str] | None = None) -> Iterator[Row]:
    """Rows of the first sheet (XLSX) or the CSV, keyed by normalized header names.

    Raises ImportFileError (a message for the officer) for a file that cannot be read
    as a whole: not .csv/.xlsx, not UTF-8, not a workbook, empty, or missing columns.
    """
    try:
        yield from _read_rows(handle, name, required=required, aliases=aliases)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            gettext(
                'The file is not UTF-8 text. In Excel use "Save as" > "CSV UTF-8", or upload the .xlsx file.'
            )
        ) from exc
    except csv.Error as exc:
        raise ImportFileError(gettext("The file is not a readable CSV spreadsheet.")) from exc


def _read_rows(handle, name: str, *, required, aliases: dict[str, str] | None) -> Iterator[Row]:
    extension = PurePath(name).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise ImportFileError(gettext("Upload a .csv or .xlsx file."))
    raw = _xlsx_rows(handle) if extension == ".xlsx" else _csv_rows(handle)
    header = None
    for number, cells in enumerate(raw, start=1):
        texts = [_cell_text(cell) for cell in cells]
        if header is None and not any(texts):
            continue  # blank lines before the header
        if header is None:
            header = [_header_key(cell, aliases) for cell in texts]
            missing = [column for column in required if column not in header]
            if missing:
                raise ImportFileError(
                    gettext("The first row must name the columns. Missing: %(columns)s.")
                    % {"columns": ", ".join(missing)}
                )
            continue
        if not any(texts):
            continue
        yield Row(number, {key: texts[i] if i < len(texts) else "" for i, key in enumerate(header) if key})
    if header is None:
        raise ImportFileError(gettext("The file is empty."))


def count_rows(job: ImportJob) -> int:
    """A quick estimate of data rows for the progress bar."""
    with job.file.open("rb") as handle:
        if job.original_name.lower().endswith(".xlsx"):
            # openpyxl is heavy; loaded only for .xlsx files.
            from openpyxl import load_workbook

            try:
                workbook = load_workbook(handle, read_only=True)
                rows = max((workbook.worksheets[0].max_row or 1) - 1, 0)
                workbook.close()
                return rows
            except Exception:  # noqa: BLE001 - the real read reports the problem
                return 0
        return max(sum(1 for _line in handle) - 1, 0)


# --- Row checks ---------------------------------------------------------------


class RowErrors:
    def __init__(self):
        self.items: list[dict] = []
        self.rows: set[int] = set()

    def add(self, row: int, column: str, message) -> None:
        self.rows.add(row)
        if len(self.items) < MAX_STORED_ERRORS:
            self.items.append({"row": row, "column": column, "message": str(message)})


def parse_date(text: str) -> datetime.date | None:
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def offline_row_input(values: dict[str, str], errors: RowErrors, row: int):
    """Turn one spreadsheet row into (ProfileInput, phone), adding errors for what cannot be read."""
    ok = True
    birth_date = parse_date(values.get("tanggal_lahir", ""))
    if birth_date is None:
        errors.add(row, "tanggal_lahir", _("Write the date of birth as DD-MM-YYYY, e.g. 14-03-1995."))
        ok = False
    gender = coded_value("jenis_kelamin", values.get("jenis_kelamin", ""))
    if gender is None:
        errors.add(row, "jenis_kelamin", _("Write L (male) or P (female)."))
        ok = False
    education = coded_value("pendidikan", values.get("pendidikan", ""))
    if education is None:
        errors.add(
            row, "pendidikan", _("Unknown education level. Use SD, SMP, SMA, D3, S1, S2 or tidak sekolah.")
        )
        ok = False
    employment = coded_value("status_pekerjaan", values.get("status_pekerjaan", ""))
    if employment is None:
        errors.add(
            row,
            "status_pekerjaan",
            _(
                "Unknown employment status. Use: tidak bekerja, phk, dirumahkan, informal, usaha mikro, bekerja."
            ),
        )
        ok = False
    phone = ""
    try:
        phone = phone_parse(values.get("no_hp", ""))
    except PhoneError as exc:
        errors.add(row, "no_hp", exc.message)
        ok = False
    for column in ("nama", "alamat", "tempat_lahir"):
        if not values.get(column, "").strip():
            errors.add(row, column, _("This column is empty."))
            ok = False
    code = values.get("kode_kecamatan", "").replace(".", "").strip()
    district_code = f"{code[0:2]}.{code[2:4]}.{code[4:6]}" if len(code) == 6 and code.isdigit() else code
    if not ok:
        return None, phone
    data = ProfileInput(
        nik=values.get("nik", ""),
        kk_number=values.get("no_kk", ""),
        full_name=values.get("nama", ""),
        birth_place=values.get("tempat_lahir", ""),
        birth_date=birth_date,
        gender=gender,
        address=values.get("alamat", ""),
        district_code=district_code,
        education=education,
        employment_status=employment,
    )
    return data, phone


FIELD_TO_COLUMN = {
    "nik": "nik",
    "kk_number": "no_kk",
    "full_name": "nama",
    "birth_date": "tanggal_lahir",
    "gender": "jenis_kelamin",
    "district": "kode_kecamatan",
    "phone": "no_hp",
}


def _validate_offline(job: ImportJob, rows: Iterator[Row], errors: RowErrors, progress) -> list[int]:
    valid: list[int] = []
    seen_nik: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    kk_counts: Counter = Counter()
    pending: list[tuple[int, str, str, str]] = []
    limit = settings.REGISTRATION_MAX_APPLICANTS_PER_KK

    def flush():
        niks = [nik for _row, nik, _kk, _phone in pending]
        phones = [phone for _row, _nik, _kk, phone in pending]
        kks = {kk for _row, _nik, kk, _phone in pending}
        taken = set(Applicant.objects.filter(nik__in=niks).values_list("nik", flat=True))
        taken_phones = set(
            Applicant.objects.filter(phone__in=phones, phone_verified_at__isnull=False).values_list(
                "phone", flat=True
            )
        )
        existing_kk = Counter(Applicant.objects.filter(kk_number__in=kks).values_list("kk_number", flat=True))
        for row, nik, kk, phone in pending:
            bad = False
            if nik in taken:
                errors.add(row, "nik", _("This NIK is already registered."))
                bad = True
            if phone in taken_phones:
                errors.add(row, "no_hp", _("This mobile number is already verified by another applicant."))
                bad = True
            if bad:
                continue
            kk_counts[kk] += 1
            if existing_kk[kk] + kk_counts[kk] > limit:
                errors.add(
                    row,
                    "no_kk",
                    _("More than %(limit)d applicants with this family card number.") % {"limit": limit},
                )
                continue
            valid.append(row)
        pending.clear()

    for row in rows:
        progress(row.number)
        if len(valid) + len(errors.rows) + len(pending) >= settings.REGISTRATION_OFFLINE_IMPORT_MAX_ROWS:
            raise ImportFileError(
                gettext("A file may have at most %(count)d people. Split it into several files.")
                % {"count": settings.REGISTRATION_OFFLINE_IMPORT_MAX_ROWS}
            )
        data, phone = offline_row_input(row.values, errors, row.number)
        if data is None:
            continue
        check = profile_validate(data=data)
        for field_name, items in check.errors.items():
            for _code, message in items:
                errors.add(row.number, FIELD_TO_COLUMN.get(field_name, field_name), message)
        if check.district is not None and check.district.regency.province_id != job.province_id:
            errors.add(row.number, "kode_kecamatan", _("This district is not in your province."))
            continue
        if check.errors:
            continue
        duplicate = False
        if check.nik in seen_nik:
            errors.add(row.number, "nik", _("Same NIK as row %(row)d.") % {"row": seen_nik[check.nik]})
            duplicate = True
        if phone in seen_phone:
            errors.add(
                row.number, "no_hp", _("Same mobile number as row %(row)d.") % {"row": seen_phone[phone]}
            )
            duplicate = True
        seen_nik.setdefault(check.nik, row.number)
        seen_phone.setdefault(phone, row.number)
        if duplicate:
            continue
        pending.append((row.number, check.nik, check.kk_number, phone))
        if len(pending) >= 500:
            flush()
    flush()
    return valid


def _validate_screening(rows: Iterator[Row], errors: RowErrors, progress) -> int:
    valid = 0
    for row in rows:
        progress(row.number)
        if valid + len(errors.rows) >= settings.REGISTRATION_IMPORT_MAX_ROWS:
            raise ImportFileError(
                gettext("A list file may have at most %(count)d rows.")
                % {"count": settings.REGISTRATION_IMPORT_MAX_ROWS}
            )
        nik = nik_clean(row.values.get("nik", ""))
        if len(nik) != 16 or not nik.isdigit():
            errors.add(row.number, "nik", _("A NIK has exactly 16 digits (0-9)."))
            continue
        valid += 1
    return valid


def _validate_handler(handler: RowHandler, rows: Iterator[Row], errors: RowErrors, progress) -> list[int]:
    """The dry run of a registered kind: the handler checks the rows, the pipeline catches repeated keys."""
    valid: list[int] = []
    seen: dict[tuple, int] = {}
    batch: list[Row] = []

    def flush():
        for number, item in handler.check(batch, errors):
            key = handler.key(item)
            if key in seen:
                errors.add(
                    number,
                    ", ".join(handler.key_columns),
                    _("Same %(columns)s as row %(row)d: each may appear only once in a file.")
                    % {"columns": " + ".join(handler.key_columns), "row": seen[key]},
                )
                continue
            seen[key] = number
            valid.append(number)
        batch.clear()

    for row in rows:
        progress(row.number)
        if len(valid) + len(errors.rows) + len(batch) >= handler.max_rows:
            raise ImportFileError(
                gettext("A file may have at most %(count)d rows. Split it into several files.")
                % {"count": handler.max_rows}
            )
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()
    return sorted(valid)


def _run_handler(handler: RowHandler, job: ImportJob) -> dict:
    """Import the rows the dry run accepted, in batches, through the owning app's services."""
    wanted = set(job.summary.get("valid_rows", []))
    errors = RowErrors()
    counts: Counter = Counter()
    processed = 0
    batch: list[Row] = []

    def flush():
        # Checked again: the data may have changed between the dry run and the confirmation.
        items = handler.check(batch, errors)
        if items:
            counts.update(handler.apply(items=items, actor=job.created_by, errors=errors))
        batch.clear()
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=processed,
            created_rows=counts["created"] + counts["updated"],
            heartbeat_at=timezone.now(),
        )

    with job.file.open("rb") as handle:
        for row in read_rows(handle, job.original_name, required=handler.columns, aliases=handler.aliases):
            if row.number not in wanted:
                continue
            processed += 1
            batch.append(row)
            if len(batch) >= BATCH:
                flush()
    flush()
    ImportJob.objects.filter(pk=job.pk).update(
        error_count=job.error_count + len(errors.rows),
        errors=sorted(job.errors + errors.items, key=lambda item: item["row"])[:MAX_STORED_ERRORS],
    )
    return {
        "imported": counts["created"] + counts["updated"],
        "created": counts["created"],
        "updated": counts["updated"],
        "unchanged": counts["unchanged"],
        "failed": len(errors.rows),
    }


# --- Jobs ---------------------------------------------------------------------------


def _progress_writer(job: ImportJob):
    state = {"last": 0}

    def progress(row_number: int) -> None:
        processed = row_number - 1
        if processed - state["last"] >= PROGRESS_EVERY * (20 if job.kind == ImportKind.SCREENING_LIST else 1):
            state["last"] = processed
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed, heartbeat_at=timezone.now())

    return progress


def import_job_create(
    *,
    kind: str,
    upload,
    user,
    province=None,
    screening_list: ScreeningList | None = None,
    consent_confirmed: bool = False,
) -> ImportJob:
    """Store the uploaded file privately and queue its dry run."""
    name = PurePath(upload.name).name
    if PurePath(name).suffix.lower() not in ALLOWED_EXTENSIONS:
        raise ImportFileError(gettext("Upload a .csv or .xlsx file."))
    with transaction.atomic():
        job = ImportJob(
            kind=kind,
            original_name=name[:200],
            created_by=user,
            province=province,
            screening_list=screening_list,
            consent_confirmed=consent_confirmed,
        )
        job.file.save(name, upload, save=False)
        job.save()
        audit_log(
            actor=user, action="registration.import_uploaded", obj=job, data={"kind": kind, "file": name}
        )
        # robust: the file is saved; with the broker away the import sweeper queues it.
        transaction.on_commit(lambda: _enqueue("validate", job.pk), robust=True)
    return job


def _enqueue(step: str, job_id: int) -> None:
    # Cycle: registration.tasks imports this module.
    from registration.tasks import import_run_task, import_validate_task

    (import_validate_task if step == "validate" else import_run_task).delay(job_id)


def _language(job: ImportJob) -> str:
    return getattr(job.created_by, "language", "") or settings.LANGUAGE_CODE


def import_job_validate(*, job_id: int) -> str:
    """The dry run: read every row, record counts and errors, write nothing else."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.UPLOADED).update(
        status=ImportStatus.VALIDATING, started_at=now, heartbeat_at=now
    )
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None:
        logger.info("import %s is gone", job_id)
        return "gone"
    if not claimed:
        return "skipped"
    errors = RowErrors()
    with translation.override(_language(job)):
        try:
            ImportJob.objects.filter(pk=job.pk).update(total_rows=count_rows(job))
            progress = _progress_writer(job)
            handler = import_handler(job.kind)
            with job.file.open("rb") as handle:
                if handler is not None:
                    rows = read_rows(
                        handle, job.original_name, required=handler.columns, aliases=handler.aliases
                    )
                    valid_rows = _validate_handler(handler, rows, errors, progress)
                    valid = len(valid_rows)
                    summary = {"valid_rows": valid_rows}
                elif job.kind == ImportKind.SCREENING_LIST:
                    rows = read_rows(handle, job.original_name, required=["nik"])
                    valid = _validate_screening(rows, errors, progress)
                    summary = {}
                elif job.kind != ImportKind.OFFLINE_REGISTRATION:
                    raise ImportFileError(gettext("This kind of import is not available."))
                else:
                    rows = read_rows(handle, job.original_name, required=OFFLINE_COLUMNS)
                    valid_rows = _validate_offline(job, rows, errors, progress)
                    valid = len(valid_rows)
                    summary = {"valid_rows": valid_rows}
        except ImportFileError as exc:
            return _fail(job, str(exc))
    total = valid + len(errors.rows)
    errors.items.sort(key=lambda item: item["row"])
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATING).update(
        status=ImportStatus.VALIDATED,
        total_rows=total,
        valid_rows=valid,
        processed_rows=total,
        error_count=len(errors.rows),
        errors=errors.items,
        summary=summary,
        heartbeat_at=timezone.now(),
    )
    return ImportStatus.VALIDATED


def _fail(job: ImportJob, message: str) -> str:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, failure=message, finished_at=timezone.now()
    )
    audit_log(
        actor=job.created_by,
        action="registration.import_failed",
        obj=job,
        data={"kind": job.kind, "failure": message},
    )
    _delete_file(job)
    return ImportStatus.FAILED


def _delete_file(job: ImportJob) -> None:
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def import_job_confirm(*, job: ImportJob, actor) -> bool:
    """The officer saw the preview and starts the import. False if it was not waiting for that."""
    with transaction.atomic():
        started = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATED, valid_rows__gt=0).update(
            status=ImportStatus.IMPORTING, processed_rows=0, heartbeat_at=timezone.now()
        )
        if started:
            audit_log(
                actor=actor, action="registration.import_confirmed", obj=job, data={"rows": job.valid_rows}
            )
            transaction.on_commit(lambda: _enqueue("run", job.pk), robust=True)
    return bool(started)


def import_job_cancel(*, job: ImportJob, actor) -> bool:
    with transaction.atomic():
        cancelled = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportStatus.UPLOADED, ImportStatus.VALIDATED]
        ).update(status=ImportStatus.CANCELLED, finished_at=timezone.now())
        if cancelled:
            audit_log(actor=actor, action="registration.import_cancelled", obj=job)
    if cancelled:
        _delete_file(job)
    return bool(cancelled)


def import_job_run(*, job_id: int) -> str:
    """Do the import confirmed by the officer. Safe to run again after a crash."""
    job = ImportJob.objects.select_related("created_by", "screening_list").filter(pk=job_id).first()
    if job is None:
        return "gone"
    if job.status != ImportStatus.IMPORTING:
        return "skipped"
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    with translation.override(_language(job)):
        try:
            handler = import_handler(job.kind)
            if handler is not None:
                summary = _run_handler(handler, job)
            elif job.kind == ImportKind.SCREENING_LIST:
                summary = _run_screening(job)
            elif job.kind == ImportKind.OFFLINE_REGISTRATION:
                summary = _run_offline(job)
            else:
                raise ImportFileError(gettext("This kind of import is not available."))
        except ImportFileError as exc:
            return _fail(job, str(exc))
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.IMPORTING).update(
        status=ImportStatus.DONE, finished_at=timezone.now(), summary=summary
    )
    audit_log(
        actor=job.created_by,
        action="registration.import_finished",
        obj=job,
        data={"kind": job.kind, **{key: value for key, value in summary.items() if key != "valid_rows"}},
    )
    _delete_file(job)
    return ImportStatus.DONE


def _run_screening(job: ImportJob) -> dict:
    screening_list = job.screening_list
    new_batch = screening_list.current_batch + 1
    # Leftovers of an import that died before its switch.
    ScreeningEntry.objects.filter(
        screening_list=screening_list, batch__gt=screening_list.current_batch
    ).delete()
    processed = 0
    chunk: list[ScreeningEntry] = []

    def write():
        ScreeningEntry.objects.bulk_create(chunk, ignore_conflicts=True, batch_size=CHUNK)
        chunk.clear()
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed, heartbeat_at=timezone.now())

    with job.file.open("rb") as handle:
        for row in read_rows(handle, job.original_name, required=["nik"]):
            nik = nik_clean(row.values.get("nik", ""))
            if len(nik) != 16 or not nik.isdigit():
                continue
            processed += 1
            chunk.append(ScreeningEntry(screening_list=screening_list, batch=new_batch, nik=nik))
            if len(chunk) >= CHUNK:
                write()
    write()
    with transaction.atomic():
        count = ScreeningEntry.objects.filter(screening_list=screening_list, batch=new_batch).count()
        ScreeningList.objects.filter(pk=screening_list.pk).update(
            current_batch=new_batch, entry_count=count, last_imported_at=timezone.now()
        )
        audit_log(
            actor=job.created_by,
            action="registration.screening_list_imported",
            obj=screening_list,
            data={"import": job.pk, "niks": count},
        )
    # The previous entries no longer match anything; remove them in slices.
    while True:
        ids = list(
            ScreeningEntry.objects.filter(screening_list=screening_list, batch__lt=new_batch).values_list(
                "pk", flat=True
            )[:CHUNK]
        )
        if not ids:
            break
        ScreeningEntry.objects.filter(pk__in=ids).delete()
    counts = screening_apply()
    audit_log(actor=job.created_by, action="registration.screening_apply", obj=screening_list, data=counts)
    return {"niks": count, **counts}


def _run_offline(job: ImportJob) -> dict:
    wanted = set(job.summary.get("valid_rows", []))
    errors = RowErrors()
    created = skipped = processed = 0
    with job.file.open("rb") as handle:
        for row in read_rows(handle, job.original_name, required=OFFLINE_COLUMNS):
            if row.number not in wanted:
                continue
            processed += 1
            data, phone = offline_row_input(row.values, errors, row.number)
            if data is None:
                continue
            nik = nik_clean(data.nik)
            if Applicant.objects.filter(nik=nik, registered_by=job.created_by).exists():
                skipped += 1  # imported by an earlier run of this job (or by this office before)
            else:
                try:
                    applicant_register_offline(staff_user=job.created_by, data=data, phone=phone)
                    created += 1
                except RegistrationError as exc:
                    for field_name, items in exc.errors.items():
                        for _code, message in items:
                            errors.add(row.number, FIELD_TO_COLUMN.get(field_name, field_name), message)
            if processed % PROGRESS_EVERY == 0:
                ImportJob.objects.filter(pk=job.pk).update(
                    processed_rows=processed, created_rows=created, heartbeat_at=timezone.now()
                )
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=processed,
        created_rows=created,
        error_count=job.error_count + len(errors.rows),
        errors=(job.errors + errors.items)[:MAX_STORED_ERRORS],
    )
    return {"created": created, "skipped": skipped, "failed": len(errors.rows)}


def import_jobs_sweep() -> int:
    """Queue again the jobs whose worker disappeared (no progress for 15 minutes)."""
    stale_before = timezone.now() - datetime.timedelta(minutes=15)
    requeued = 0
    for job in ImportJob.objects.filter(
        status__in=[ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.IMPORTING],
        heartbeat_at__lt=stale_before,
    ) | ImportJob.objects.filter(
        status=ImportStatus.UPLOADED, heartbeat_at__isnull=True, created_at__lt=stale_before
    ):
        if job.status == ImportStatus.VALIDATING:
            ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATING).update(
                status=ImportStatus.UPLOADED
            )
        _enqueue("run" if job.status == ImportStatus.IMPORTING else "validate", job.pk)
        requeued += 1
    return requeued


def offline_template_csv() -> str:
    """The column header and one example row, for staff to download."""
    return spreadsheet_csv([OFFLINE_COLUMNS, EXAMPLE_ROW])
