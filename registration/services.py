"""Registration rules: profile, phone, civil registry, lists, eligibility, offline registration.

Every function here is the only way its state changes. Views, admin actions,
imports and tasks call them.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from prakerja import otp
from prakerja.audit import audit_log, field_changes_apply
from prakerja.masking import mask_identifier
from prakerja.notifications import notify_user
from registration import civil_registry
from registration.enums import Channel, CivilRegistryStatus, Gender, KemnakerStatus, ScreeningKind
from registration.kemnaker import offline_registration_mark
from registration.models import (
    Applicant,
    CivilRecord,
    DisnakerStaff,
    District,
    FamilyCard,
    ScreeningEntry,
    ScreeningList,
)
from registration.nik import MAX_AGE, MIN_AGE, NIK_ERRORS, age_on, nik_check_against, nik_clean, nik_parse
from registration.regions import district_by_code
from registration.selectors import applicant_row_of_user_for_update

logger = logging.getLogger(__name__)

PHONE_PURPOSE = "phone_verify"
CLAIM_PURPOSE = "claim"
# Accounts made for people registered at a Disnaker office who have no email.
# ``.invalid`` is reserved: nothing is ever delivered there.
OFFLINE_EMAIL_DOMAIN = "offline.prakerja.invalid"
IDENTITY_FIELDS = ("nik", "kk_number", "full_name", "birth_date", "gender")
CIVIL_RECHECK_MIN_INTERVAL = datetime.timedelta(minutes=1)
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ .,'\-]+[^\W\d_]+)*\.?$")

PROFILE_ERRORS = {
    "kk_length": _("A family card (KK) number has exactly 16 digits."),
    "kk_not_digits": _("A family card (KK) number contains digits only (0-9)."),
    "kk_same_as_nik": _(
        "This is your NIK. The family card number is a different 16-digit number printed at the top "
        "of your Kartu Keluarga."
    ),
    "kk_unknown_district": _(
        "The first 6 digits of this family card number are not a district code in Indonesia. "
        "Check for a typing mistake."
    ),
    "kk_full": _(
        "The maximum number of applicants from one family card (%(limit)d) is already registered. "
        "Only %(limit)d family members may register."
    ),
    "nik_taken": _(
        "This NIK is already registered to another account. If it is yours and you did not register it, "
        'report it with "Report misuse of your NIK" at the bottom of this page, or call the call centre: '
        "someone may be using your identity."
    ),
    "identity_locked": _(
        "This data was verified by the civil registry and can no longer be changed here. "
        "Contact the call centre if it is wrong."
    ),
    "name_invalid": _("Write your name with letters as on your KTP, without digits or symbols."),
    "district_not_in_province": _("Choose a district in your own province."),
    "phone_taken": _("This mobile number is already verified by another applicant. Use your own number."),
}


class RegistrationError(Exception):
    """One or more rule failures, by form field: ``{"nik": [("nik_taken", message)]}``."""

    def __init__(self, errors: dict[str, list[tuple[str, str]]]):
        super().__init__("; ".join(code for items in errors.values() for code, _msg in items))
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [code for items in self.errors.values() for code, _msg in items]


def _error(field_name: str, code: str, **params) -> RegistrationError:
    message = PROFILE_ERRORS.get(code) or NIK_ERRORS[code]
    return RegistrationError({field_name: [(code, str(message) % params if params else str(message))]})


@dataclass(frozen=True)
class ProfileInput:
    nik: str
    kk_number: str
    full_name: str
    birth_place: str
    birth_date: datetime.date
    gender: str
    address: str
    district_code: str
    education: str
    employment_status: str
    # The applicant ticked the declarations and the UU PDP consent (the form requires both).
    declarations: bool = True
    consent: bool = True


@dataclass
class ProfileCheck:
    """The result of ``profile_validate``: cleaned values and errors by field."""

    nik: str = ""
    kk_number: str = ""
    full_name: str = ""
    district: District | None = None
    errors: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, field_name: str, code: str, message) -> None:
        self.errors.setdefault(field_name, []).append((code, str(message)))


def clean_name(value: str) -> str:
    return " ".join((value or "").split())


def name_is_valid(name: str) -> bool:
    """The one rule for a person's name (profile, offline registration, civil-record imports).

    ``name`` is already cleaned (``clean_name``): letters, with single spaces, dots,
    commas, apostrophes or dashes between the words; no digits or other symbols.
    """
    return 2 <= len(name) <= 150 and bool(NAME_RE.match(name))


def kk_problem(kk: str, *, nik: str) -> str:
    """The code of what is wrong with a family card number (already ``nik_clean``-ed), or ""."""
    if not kk.isdigit():
        return "kk_not_digits"
    if len(kk) != 16:
        return "kk_length"
    if kk == nik:
        return "kk_same_as_nik"
    if district_by_code(District.code_from_nik(kk)) is None:
        return "kk_unknown_district"
    return ""


def profile_validate(*, data: ProfileInput, today: datetime.date | None = None) -> ProfileCheck:
    """Every rule on a profile that needs no lock: NIK, KK, name, district. Reads only."""
    today = today or timezone.localdate()
    check = ProfileCheck(nik=nik_clean(data.nik), kk_number=nik_clean(data.kk_number))
    info = nik_parse(check.nik, today=today)
    for code in info.errors:
        check.add("nik", code, NIK_ERRORS[code])
    for code in nik_check_against(info, birth_date=data.birth_date, gender=data.gender):
        check.add("gender" if code == "gender_mismatch" else "birth_date", code, NIK_ERRORS[code])
    if data.birth_date and info.birth_date is None:
        # The NIK cannot tell the age: check the typed date so the age rule still speaks.
        age = age_on(data.birth_date, today)
        if age < MIN_AGE:
            check.add("birth_date", "too_young", NIK_ERRORS["too_young"])
        elif age > MAX_AGE:
            check.add("birth_date", "too_old", NIK_ERRORS["too_old"])

    code = kk_problem(check.kk_number, nik=check.nik)
    if code:
        check.add("kk_number", code, PROFILE_ERRORS[code])

    check.full_name = clean_name(data.full_name)
    if not name_is_valid(check.full_name):
        check.add("full_name", "name_invalid", PROFILE_ERRORS["name_invalid"])

    check.district = district_by_code(data.district_code)
    if check.district is None:
        check.add("district", "required", _("Choose your district (kecamatan)."))
    return check


def _lock_family_card(kk_number: str, *, user_id: int | None, nik: str) -> dict:
    """Lock the KK row and refuse a member beyond the limit; return ``screening_values(nik)``.

    The limit counts the card's members other than the applicant of ``user_id`` (the person
    saving): their own row, saved before or a moment ago by a second post of the same form,
    is not a new member.

    Call inside a transaction. One statement creates the row or, when it exists, locks it (an
    upsert that rewrites the key with itself); the count that follows is a new statement, so
    under READ COMMITTED it sees every member committed before the lock was granted. The same
    statement reads the exclusion and priority lists for ``nik`` (one round trip less).
    """
    table = connection.ops.quote_name(FamilyCard._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kk_number, created_at) VALUES (%s, %s) "  # noqa: S608 - a model's table
            "ON CONFLICT (kk_number) DO UPDATE SET kk_number = EXCLUDED.kk_number",
            [kk_number, timezone.now()],
        )
        params = [kk_number, user_id] if user_id else [kk_number]
        cursor.execute(_members_and_screening_sql(connection.vendor, bool(user_id)), [*params, nik, True])
        rows = cursor.fetchall()
    limit = settings.REGISTRATION_MAX_APPLICANTS_PER_KK
    if rows[0][0] >= limit:
        raise _error("kk_number", "kk_full", limit=limit)
    return _screening_fold(row[1:] for row in rows if row[1] is not None)


@functools.cache
def _members_and_screening_sql(vendor: str, exclude_user: bool) -> str:
    """The family card's member count and the ``screening_values`` rows, in one statement.

    One row per matching list entry (ordered as ``screening_values`` orders them), each with the
    count; one row with the count and NULLs when the NIK is on no list.
    """
    quote = connection.ops.quote_name
    applicants = quote(Applicant._meta.db_table)
    entries, lists = quote(ScreeningEntry._meta.db_table), quote(ScreeningList._meta.db_table)
    entry, lst = ScreeningEntry._meta, ScreeningList._meta

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    others = (
        f" AND {applicants}.{quote(Applicant._meta.get_field('user').column)} <> %s" if exclude_user else ""
    )
    return (
        f"SELECT (SELECT COUNT(*) FROM {applicants} "  # noqa: S608 - names from the models
        f"WHERE {applicants}.{quote(Applicant._meta.get_field('kk_number').column)} = %s{others}), "
        "s.kind, s.list_id, s.reason, s.source "
        "FROM (SELECT 1 AS one) AS one_row LEFT JOIN ("
        f"SELECT {lists}.{column(lst, 'kind')} AS kind, {entries}.{column(entry, 'screening_list')} AS list_id, "
        f"{lists}.{column(lst, 'reason')} AS reason, {lists}.{column(lst, 'source')} AS source, "
        f"{lists}.{column(lst, 'reference_date')} AS reference_date "
        f"FROM {entries} INNER JOIN {lists} "
        f"ON {lists}.{quote(lst.pk.column)} = {entries}.{column(entry, 'screening_list')} "
        f"WHERE {entries}.{column(entry, 'nik')} = %s AND {lists}.{column(lst, 'is_active')} = %s "
        f"AND {entries}.{column(entry, 'batch')} = {lists}.{column(lst, 'current_batch')}"
        ") AS s ON 1 = 1 ORDER BY s.reference_date, s.list_id"
    )


def _profile_save(
    *,
    user,
    data: ProfileInput,
    actor,
    channel: str,
    phone: str = "",
    today: datetime.date | None = None,
) -> Applicant:
    check = profile_validate(data=data, today=today)
    if check.errors:
        raise RegistrationError(check.errors)
    now = timezone.now()
    values = {
        "nik": check.nik,
        "kk_number": check.kk_number,
        "full_name": check.full_name,
        "birth_place": clean_name(data.birth_place),
        "birth_date": data.birth_date,
        "gender": data.gender,
        "address": data.address.strip(),
        "district": check.district,
        "regency": check.district.regency,
        "province": check.district.regency.province,
        "education": data.education,
        "employment_status": data.employment_status,
    }
    try:
        return _profile_write(user=user, data=data, check=check, values=values, actor=actor, channel=channel,
                              phone=phone, now=now)  # fmt: skip
    except _ApplicantCreatedMeanwhile:
        # The same person's first save posted twice at once (a double click, a retried request):
        # the other post created the row after this one looked. Now it is there, this save is
        # an update of it, as if it had come a moment later.
        return _profile_write(user=user, data=data, check=check, values=values, actor=actor, channel=channel,
                              phone=phone, now=now)  # fmt: skip


class _ApplicantCreatedMeanwhile(Exception):
    """The applicant row of the user was inserted by another transaction after this one read it."""


def _profile_write(*, user, data: ProfileInput, check, values: dict, actor, channel: str, phone: str, now):
    # A NIK held by someone else is found by the unique constraint when the row is written
    # (below), not by a query before: one query less on every submission, and no race.
    with transaction.atomic():
        applicant = applicant_row_of_user_for_update(user)
        if applicant is None:
            applicant = Applicant(user=user, channel=channel, registered_by=actor if actor != user else None)
        created = applicant.profile_completed_at is None
        changed = [name for name, value in values.items() if getattr(applicant, name) != value]
        if applicant.identity_locked:
            locked = [name for name in IDENTITY_FIELDS if name in changed]
            if locked:
                raise RegistrationError(
                    {name: [("identity_locked", str(PROFILE_ERRORS["identity_locked"]))] for name in locked}
                )
        screening = None
        if created or "kk_number" in changed:
            screening = _lock_family_card(check.kk_number, user_id=user.pk, nik=check.nik)
        for name, value in values.items():
            setattr(applicant, name, value)
        consent_version = settings.REGISTRATION_CONSENT_VERSION
        if data.declarations and (
            applicant.declarations_version != consent_version or not applicant.declarations_at
        ):
            applicant.declarations_version, applicant.declarations_at = consent_version, now
        if data.consent and (applicant.consent_version != consent_version or not applicant.consent_at):
            applicant.consent_version, applicant.consent_at = consent_version, now
        if applicant.profile_completed_at is None:
            applicant.profile_completed_at = now
        if phone and not applicant.phone_verified_at:
            applicant.phone = phone
        recheck = created or any(name in changed for name in ("nik", "kk_number", "full_name", "birth_date"))
        # Saving again after "not found" or "mismatch" asks for a new check: the applicant may have had
        # the record corrected at the Dukcapil office. At most once a minute per applicant.
        retry = applicant.civil_status in (CivilRegistryStatus.NOT_FOUND, CivilRegistryStatus.MISMATCH) and (
            applicant.civil_checked_at is None
            or now - applicant.civil_checked_at >= CIVIL_RECHECK_MIN_INTERVAL
        )
        if recheck or retry or applicant.civil_status == CivilRegistryStatus.NOT_CHECKED:
            applicant.civil_status = CivilRegistryStatus.PENDING
            applicant.civil_mismatch_fields = []
            applicant.civil_checked_at = None
        # The exclusion and priority lists, as screening_apply would set them, in one read
        # (with the family card's count when that was taken).
        for name, value in (screening if screening is not None else screening_values(check.nik)).items():
            setattr(applicant, name, value)
        try:
            # No savepoint: a failed write ends this transaction anyway (the error is raised).
            applicant.save()
        except IntegrityError as exc:
            message = str(exc)
            if "user_id" in message and created:  # the OneToOne's unique index, both databases
                raise _ApplicantCreatedMeanwhile from exc
            if "nik" in message:  # applicant_unique_nik (PostgreSQL) / registration_applicant.nik (SQLite)
                raise _error("nik", "nik_taken") from exc
            raise
        audit_log(
            actor=actor,
            action="registration.profile_created" if created else "registration.profile_updated",
            obj=applicant,
            data={"channel": applicant.channel, "changed": sorted(changed), "nik": applicant.masked_nik},
        )
        if applicant.civil_status == CivilRegistryStatus.PENDING:
            applicant_id = applicant.pk
            # robust: the profile is saved; with the broker away for a moment the sweeper queues the check.
            transaction.on_commit(lambda: _enqueue_civil_check(applicant_id), robust=True)
    return applicant


def _enqueue_civil_check(applicant_id: int) -> None:
    # Cycle: registration.tasks imports this module.
    from registration.tasks import civil_check_task

    civil_check_task.delay(applicant_id)


def applicant_profile_save(*, user, data: ProfileInput, today: datetime.date | None = None) -> Applicant:
    """Create or update the signed-in applicant's profile; queue the civil-registry check.

    Raises ``RegistrationError`` with messages by field. The NIK, KK, name,
    birth date and gender cannot change once the civil registry verified them.
    """
    return _profile_save(user=user, data=data, actor=user, channel=Channel.ONLINE, today=today)


def applicant_for_update(*, user) -> Applicant:
    """The applicant row of ``user``, created empty if missing. Call inside a transaction."""
    applicant = Applicant.objects.select_for_update().filter(user=user).first()
    if applicant is None:
        applicant = Applicant.objects.create(user=user)
    return applicant


# --- Phone --------------------------------------------------------------------


def applicant_phone_code_send(*, user, phone: str) -> otp.OtpSent:
    """Send a verification code to ``phone`` (E.164, already parsed). Raises OtpError / RegistrationError."""
    taken = Applicant.objects.filter(phone=phone, phone_verified_at__isnull=False).exclude(user=user).exists()
    if taken:
        raise _error("phone", "phone_taken")
    return otp.otp_send(user=user, phone=phone, purpose=PHONE_PURPOSE, language=user.language or "id")


def applicant_phone_verify(*, user, code: str) -> Applicant:
    """Check the code; the number it was sent to becomes the applicant's verified number."""
    verified = otp.otp_verify(user=user, purpose=PHONE_PURPOSE, code=code)
    try:
        with transaction.atomic():
            applicant = applicant_for_update(user=user)
            Applicant.objects.filter(pk=applicant.pk).update(
                phone=verified.phone, phone_verified_at=timezone.now(), updated_at=timezone.now()
            )
    except IntegrityError as exc:
        raise _error("phone", "phone_taken") from exc
    applicant.refresh_from_db()
    return applicant


# --- Civil registry ----------------------------------------------------------


class CivilRegistryUnavailable(Exception):
    """The registry could not answer; the check is retried later."""


def applicant_civil_check(*, applicant_id: int) -> str:
    """Ask the civil registry about one applicant and record the answer.

    Only a PENDING or UNAVAILABLE check runs, and the answer is written only if
    the checked data is still the applicant's data (compare-and-swap), so a
    check that raced with a profile edit changes nothing. Raises
    ``CivilRegistryUnavailable`` after recording UNAVAILABLE, for the task to retry.
    """
    applicant = Applicant.objects.filter(pk=applicant_id).first()
    if applicant is None:
        logger.info("civil check: applicant %s is gone", applicant_id)
        return "gone"
    waiting = (CivilRegistryStatus.PENDING, CivilRegistryStatus.UNAVAILABLE)
    if applicant.civil_status not in waiting or not applicant.nik or not applicant.birth_date:
        return "skipped"
    result = civil_registry.verify(
        applicant.nik, applicant.kk_number, applicant.full_name, applicant.birth_date
    )
    now = timezone.now()
    with transaction.atomic():
        updated = Applicant.objects.filter(
            pk=applicant.pk,
            civil_status__in=waiting,
            nik=applicant.nik,
            kk_number=applicant.kk_number,
            full_name=applicant.full_name,
            birth_date=applicant.birth_date,
        ).update(
            civil_status=result.status,
            civil_checked_at=now,
            civil_mismatch_fields=result.mismatch_fields,
            updated_at=now,
        )
        if not updated:
            return "stale"
        if result.status != CivilRegistryStatus.UNAVAILABLE:
            audit_log(
                actor=None,
                action="registration.civil_check",
                obj=applicant,
                data={"result": result.status, "fields": result.mismatch_fields},
            )
        if result.status in (CivilRegistryStatus.MISMATCH, CivilRegistryStatus.NOT_FOUND):
            notify_user(
                user=applicant.user,
                template="registration_civil_failed",
                context={"status": result.status, "masked_nik": applicant.masked_nik},
                channels=("email",),
                idempotency_key=f"civil-failed:{applicant.pk}:{now.timestamp():.0f}",
            )
    if result.status == CivilRegistryStatus.UNAVAILABLE:
        logger.warning("civil check for applicant %s: registry unavailable (%s)", applicant.pk, result.detail)
        raise CivilRegistryUnavailable(result.detail)
    return result.status


@dataclass(frozen=True)
class CivilRetry:
    queued: bool
    wait_seconds: int = 0


def applicant_civil_retry(*, user, now: datetime.datetime | None = None) -> CivilRetry:
    """The applicant's "Check my NIK" button after "not found" or "mismatch": check the same data again.

    The person may have had the record corrected at the Dukcapil office. At most once a minute per
    applicant (the same interval as saving the profile again); the answer shows on the dashboard.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # ``user`` is unique: no ordering to build (``first()`` would order by the key).
        rows = list(Applicant.objects.select_for_update().filter(user_id=user.pk)[:1])
        applicant = rows[0] if rows else None
        retryable = (CivilRegistryStatus.NOT_FOUND, CivilRegistryStatus.MISMATCH)
        if applicant is None or not applicant.nik or applicant.civil_status not in retryable:
            return CivilRetry(queued=False)
        if applicant.civil_checked_at and now - applicant.civil_checked_at < CIVIL_RECHECK_MIN_INTERVAL:
            left = CIVIL_RECHECK_MIN_INTERVAL - (now - applicant.civil_checked_at)
            return CivilRetry(queued=False, wait_seconds=max(int(left.total_seconds()) + 1, 1))
        Applicant.objects.filter(pk=applicant.pk).update(
            civil_status=CivilRegistryStatus.PENDING,
            civil_mismatch_fields=[],
            civil_checked_at=None,
            updated_at=now,
        )
        audit_log(actor=user, action="registration.civil_retry", obj=applicant)
        applicant_id = applicant.pk
        transaction.on_commit(lambda: _enqueue_civil_check(applicant_id), robust=True)
    return CivilRetry(queued=True)


def applicants_civil_recheck(*, applicant_ids: list[int], actor) -> int:
    """Officer action: check these applicants again (except already verified ones)."""
    with transaction.atomic():
        ids = list(
            Applicant.objects.filter(pk__in=applicant_ids, nik__isnull=False)
            .exclude(civil_status=CivilRegistryStatus.VERIFIED)
            .values_list("pk", flat=True)
        )
        Applicant.objects.filter(pk__in=ids).update(
            civil_status=CivilRegistryStatus.PENDING, civil_mismatch_fields=[], updated_at=timezone.now()
        )
        for applicant in Applicant.objects.filter(pk__in=ids):
            audit_log(actor=actor, action="registration.civil_recheck", obj=applicant)
        transaction.on_commit(lambda: [_enqueue_civil_check(pk) for pk in ids], robust=True)
    return len(ids)


def civil_check_sweep(*, limit: int = 1000) -> int:
    """Queue checks that are waiting too long (a lost task, or retries used up)."""
    now = timezone.now()
    stale = Applicant.objects.filter(
        Q(civil_status=CivilRegistryStatus.PENDING, updated_at__lt=now - datetime.timedelta(minutes=10))
        | Q(
            civil_status=CivilRegistryStatus.UNAVAILABLE,
            civil_checked_at__lt=now - datetime.timedelta(minutes=30),
        )
    ).values_list("pk", flat=True)[:limit]
    ids = list(stale)
    for pk in ids:
        _enqueue_civil_check(pk)
    return len(ids)


# --- Exclusion and priority lists ---------------------------------------------


def _matching_entries(kind: str):
    return ScreeningEntry.objects.filter(
        nik=OuterRef("nik"),
        screening_list__kind=kind,
        screening_list__is_active=True,
        batch=F("screening_list__current_batch"),
    ).order_by("screening_list__reference_date", "screening_list_id")


def screening_values(nik: str) -> dict:
    """The list fields of an applicant with ``nik``: the first matching active list of each kind.

    The same rule as ``screening_apply`` (earliest reference date, then list id), for one
    NIK, in one query; the profile save writes them with the applicant row.
    """
    rows = (
        ScreeningEntry.objects.filter(
            nik=nik, screening_list__is_active=True, batch=F("screening_list__current_batch")
        )
        .order_by("screening_list__reference_date", "screening_list_id")
        .values_list(
            "screening_list__kind", "screening_list_id", "screening_list__reason", "screening_list__source"
        )
    )
    return _screening_fold(rows)


def _screening_fold(rows) -> dict:
    """``screening_values`` from its rows: (kind, list id, reason, source), first list first."""
    values = {
        "is_excluded": False,
        "exclusion_list_id": None,
        "exclusion_reason": "",
        "is_priority": False,
        "priority_list_id": None,
        "priority_source": "",
    }
    for kind, list_id, reason, source in rows:
        if kind == ScreeningKind.EXCLUSION and not values["is_excluded"]:
            values.update(is_excluded=True, exclusion_list_id=list_id, exclusion_reason=reason)
        elif kind == ScreeningKind.PRIORITY and not values["is_priority"]:
            values.update(is_priority=True, priority_list_id=list_id, priority_source=source)
    return values


def screening_apply(*, applicant_ids: list[int] | None = None) -> dict[str, int]:
    """Re-apply every active exclusion and priority list to applicants, set-based.

    Four UPDATE statements over all applicants (or the given ids): mark the
    newly listed (or those whose matching list changed), clear those no longer
    listed. Returns how many rows each statement changed.
    """
    applicants = Applicant.objects.filter(nik__isnull=False)
    if applicant_ids is not None:
        applicants = applicants.filter(pk__in=applicant_ids)
    now = timezone.now()
    counts = {}
    for kind, flag, list_field, text_field in (
        (ScreeningKind.EXCLUSION, "is_excluded", "exclusion_list", "exclusion_reason"),
        (ScreeningKind.PRIORITY, "is_priority", "priority_list", "priority_source"),
    ):
        entries = _matching_entries(kind)
        first_list = Subquery(entries.values("screening_list_id")[:1])
        if kind == ScreeningKind.EXCLUSION:
            text = Subquery(entries.values("screening_list__reason")[:1])
        else:
            text = Subquery(entries.values("screening_list__source")[:1])
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # Compiling these statements with LLVM took 0.7 s each at 2,000,000 applicants,
                    # more than running them when nothing changed (bench/README.md, waves).
                    cursor.execute("SET LOCAL jit = off")
            counts[f"{kind}_set"] = (
                applicants.filter(Exists(entries))
                .exclude(**{flag: True, f"{list_field}_id": first_list})
                .update(**{flag: True, f"{list_field}_id": first_list, text_field: text, "updated_at": now})
            )
            counts[f"{kind}_cleared"] = (
                applicants.filter(**{flag: True})
                .exclude(Exists(entries))
                .update(**{flag: False, f"{list_field}_id": None, text_field: "", "updated_at": now})
            )
    return counts


def screening_apply_all(*, actor=None) -> dict[str, int]:
    """Re-apply the lists to ALL applicants; waves call this before drawing. Audited."""
    counts = screening_apply()
    audit_log(actor=actor, action="registration.screening_apply", data=counts)
    return counts


def screening_list_activate(*, screening_list: ScreeningList, active: bool, actor) -> dict[str, int]:
    with transaction.atomic():
        ScreeningList.objects.filter(pk=screening_list.pk).update(is_active=active)
        audit_log(
            actor=actor,
            action="registration.screening_list_activated"
            if active
            else "registration.screening_list_deactivated",
            obj=screening_list,
        )
    return screening_apply()


# --- Eligibility -------------------------------------------------------------


@dataclass(frozen=True)
class EligibilityReason:
    code: str
    message: str


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: list[EligibilityReason]

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


CIVIL_REASONS = {
    CivilRegistryStatus.NOT_CHECKED: ("civil_not_checked", _("Your NIK has not been checked yet.")),
    CivilRegistryStatus.PENDING: (
        "civil_pending",
        _("Your NIK is still being checked with the civil registry."),
    ),
    CivilRegistryStatus.UNAVAILABLE: (
        "civil_pending",
        _("Your NIK is still being checked: the civil registry is busy and we retry automatically."),
    ),
    CivilRegistryStatus.MISMATCH: (
        "civil_mismatch",
        _("Your data does not match the civil registry (Dukcapil). Correct it in your profile."),
    ),
    CivilRegistryStatus.NOT_FOUND: (
        "civil_not_found",
        _("The civil registry (Dukcapil) does not know your NIK. Check the number in your profile."),
    ),
}


def applicant_eligibility(*, applicant: Applicant | None, today: datetime.date | None = None) -> Eligibility:
    """Registration-level rules for joining a wave, each failed one with a code and message.

    Codes: ``no_profile``, ``profile_incomplete``, ``phone_unverified``,
    ``civil_not_checked``, ``civil_pending``, ``civil_mismatch``,
    ``civil_not_found``, ``excluded``, ``frozen``, ``kemnaker_pending``, ``too_young``, ``too_old``. The waves
    app adds its own (KYC, participant, blacklist) on top.
    """
    if applicant is None:
        return Eligibility(False, [EligibilityReason("no_profile", str(_("Complete your profile first.")))])
    today = today or timezone.localdate()
    reasons = []
    if not applicant.profile_completed_at or not applicant.nik:
        reasons.append(EligibilityReason("profile_incomplete", str(_("Your profile is not complete."))))
    if not applicant.phone_verified_at:
        reasons.append(EligibilityReason("phone_unverified", str(_("Your mobile number is not verified."))))
    if applicant.nik and applicant.civil_status != CivilRegistryStatus.VERIFIED:
        code, message = CIVIL_REASONS[applicant.civil_status]
        reasons.append(EligibilityReason(code, str(message)))
    if applicant.is_excluded:
        reasons.append(
            EligibilityReason(
                "excluded",
                str(_("You are not eligible: %(reason)s.")) % {"reason": applicant.exclusion_reason},
            )
        )
    if applicant.frozen_at:
        reasons.append(
            EligibilityReason(
                "frozen",
                str(_("Your registration is on hold while an officer checks a report: %(reason)s"))
                % {"reason": applicant.frozen_reason},
            )
        )
    if applicant.kemnaker_hold:
        if applicant.kemnaker_status == KemnakerStatus.RETURNED:
            message = _(
                "The Ministry of Manpower (Kemnaker) returned your registration: %(reason)s. "
                "Contact the Disnaker office that registered you."
            ) % {"reason": applicant.kemnaker_note}
        else:
            message = _(
                "Your registration at the Disnaker office is waiting for approval by the Ministry of "
                "Manpower (Kemnaker)."
            )
        reasons.append(EligibilityReason("kemnaker_pending", str(message)))
    if applicant.birth_date:
        age = age_on(applicant.birth_date, today)
        if age < MIN_AGE:
            reasons.append(EligibilityReason("too_young", str(NIK_ERRORS["too_young"])))
        elif age > MAX_AGE:
            reasons.append(EligibilityReason("too_old", str(NIK_ERRORS["too_old"])))
    return Eligibility(not reasons, reasons)


# --- Offline registration (Disnaker) ------------------------------------------------


def offline_placeholder_email() -> str:
    return f"offline-{uuid.uuid4().hex}@{OFFLINE_EMAIL_DOMAIN}"


def is_placeholder_account(user) -> bool:
    return user.email.endswith("@" + OFFLINE_EMAIL_DOMAIN)


def applicant_register_offline(
    *, staff_user, data: ProfileInput, phone: str, today: datetime.date | None = None
) -> Applicant:
    """Disnaker staff register a person in their own province.

    The person gets a placeholder account (``offline-…@offline.prakerja.invalid``,
    no usable password). They later sign up online with their own email and
    take the record over with their NIK and an SMS code to the number given
    here (``applicant_claim_*``). The staff member confirms the person signed
    the paper declarations and consent.
    """
    staff = getattr(staff_user, "disnaker", None)
    if staff is None:
        raise PermissionError("only Disnaker staff register offline")
    district = district_by_code(data.district_code)
    if district is not None and district.regency.province_id != staff.province_id:
        raise _error("district", "district_not_in_province")
    if Applicant.objects.filter(phone=phone, phone_verified_at__isnull=False).exists():
        raise _error("phone", "phone_taken")
    with transaction.atomic():
        user = get_user_model().objects.create_user(email=offline_placeholder_email(), password=None)
        user.first_name = clean_name(data.full_name)[:150]
        user.save(update_fields=["first_name"])
        applicant = _profile_save(
            user=user, data=data, actor=staff_user, channel=Channel.OFFLINE, phone=phone, today=today
        )
        offline_registration_mark(applicant=applicant)
        notify_user(
            user=user,
            template="registration_offline_registered",
            context={"office": staff.office_name or str(staff.province)},
            phone=phone,
            channels=("sms",),
        )
    return applicant


def _claimable(nik: str):
    return Applicant.objects.filter(
        nik=nik,
        channel=Channel.OFFLINE,
        claimed_at__isnull=True,
        user__email__endswith="@" + OFFLINE_EMAIL_DOMAIN,
    )


CLAIM_NO_MATCH = _(
    "We found no registration from a Disnaker office with this NIK and mobile number. Check both, "
    "or ask the office which number they recorded."
)


def applicant_claim_start(*, user, nik: str, phone: str) -> otp.OtpSent:
    """Step 1 of taking over an offline registration: a code to the number the office recorded."""
    nik = nik_clean(nik)
    if Applicant.objects.filter(user=user, nik__isnull=False).exists():
        raise RegistrationError({"nik": [("has_profile", str(_("Your account already has a profile.")))]})
    if not _claimable(nik).filter(phone=phone).exists():
        raise RegistrationError({"nik": [("no_match", str(CLAIM_NO_MATCH))]})
    return otp.otp_send(user=user, phone=phone, purpose=CLAIM_PURPOSE, language=user.language or "id")


def applicant_claim_confirm(*, user, nik: str, code: str) -> Applicant:
    """Step 2: with the right code the offline record moves to ``user``; its number is verified."""
    nik = nik_clean(nik)
    verified = otp.otp_verify(user=user, purpose=CLAIM_PURPOSE, code=code)
    now = timezone.now()
    with transaction.atomic():
        applicant = _claimable(nik).select_for_update().filter(phone=verified.phone).first()
        if applicant is None:
            raise RegistrationError({"nik": [("no_match", str(CLAIM_NO_MATCH))]})
        placeholder = applicant.user
        # An empty applicant row the new account may have (phone step first) makes way.
        Applicant.objects.filter(user=user, nik__isnull=True).delete()
        Applicant.objects.filter(pk=applicant.pk).update(
            user=user, claimed_at=now, phone_verified_at=now, updated_at=now
        )
        get_user_model().objects.filter(pk=placeholder.pk).update(is_active=False)
        audit_log(
            actor=user,
            action="registration.offline_claimed",
            obj=applicant,
            data={"placeholder_user": placeholder.pk, "nik": mask_identifier(nik)},
        )
    applicant.refresh_from_db()
    return applicant


def gender_label(value: str) -> str:
    return str(Gender(value).label) if value in Gender.values else ""


# --- Holding an applicant while a report is checked -----------------------------------


def applicant_freeze(*, applicant: Applicant, reason: str, actor=None) -> bool:
    """Stop the applicant's progress (joining a wave, buying, new photos) until ``applicant_unfreeze``.

    True if frozen now; False if it already was (the first reason stays).
    """
    with transaction.atomic():
        frozen = Applicant.objects.filter(pk=applicant.pk, frozen_at__isnull=True).update(
            frozen_at=timezone.now(), frozen_reason=reason[:200]
        )
        if frozen:
            applicant.refresh_from_db(fields=["frozen_at", "frozen_reason"])
            audit_log(
                actor=actor, action="registration.applicant_frozen", obj=applicant, data={"reason": reason}
            )
    return bool(frozen)


def applicant_unfreeze(*, applicant: Applicant, actor, note: str = "") -> bool:
    with transaction.atomic():
        unfrozen = Applicant.objects.filter(pk=applicant.pk, frozen_at__isnull=False).update(
            frozen_at=None, frozen_reason=""
        )
        if unfrozen:
            applicant.refresh_from_db(fields=["frozen_at", "frozen_reason"])
            audit_log(
                actor=actor, action="registration.applicant_unfrozen", obj=applicant, data={"note": note}
            )
    return bool(unfrozen)


# --- Civil registry records (the local Dukcapil table) ----------------------------------


@dataclass(frozen=True)
class CivilRecordInput:
    nik: str
    kk_number: str
    full_name: str
    birth_place: str
    birth_date: datetime.date
    gender: str


CIVIL_RECORD_FIELDS = ("kk_number", "full_name", "birth_place", "birth_date", "gender")


def civil_records_import(*, records: list[CivilRecordInput], actor) -> dict[str, int]:
    """Create or update civil-registry records by NIK (checked rows from an import); audited.

    One transaction per call; the rows are locked so two imports of the same NIK
    apply one after the other. The audit entry holds counts and masked NIKs only.
    """
    niks = [record.nik for record in records]
    if len(set(niks)) != len(niks):
        raise ValueError("civil_records_import: a NIK appears twice in one call")
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {
            record.nik: record for record in CivilRecord.objects.select_for_update().filter(nik__in=niks)
        }
        new, changed = [], []
        for record in records:
            current = existing.get(record.nik)
            if current is None:
                new.append(
                    CivilRecord(
                        nik=record.nik, **{name: getattr(record, name) for name in CIVIL_RECORD_FIELDS}
                    )
                )
                continue
            if all(getattr(current, name) == getattr(record, name) for name in CIVIL_RECORD_FIELDS):
                unchanged += 1
                continue
            for name in CIVIL_RECORD_FIELDS:
                setattr(current, name, getattr(record, name))
            current.updated_at = timezone.now()
            changed.append(current)
        CivilRecord.objects.bulk_create(new, batch_size=500)
        CivilRecord.objects.bulk_update(changed, [*CIVIL_RECORD_FIELDS, "updated_at"], batch_size=500)
        created, updated = len(new), len(changed)
        audit_log(
            actor=actor,
            action="registration.civil_records_imported",
            data={
                "created": created,
                "updated": updated,
                "unchanged": unchanged,
                "updated_niks": [mask_identifier(record.nik) for record in changed][:100],
            },
        )
    return {"created": created, "updated": updated, "unchanged": unchanged}


def civil_record_save(*, record: CivilRecordInput, actor):
    """One record typed in the console: the import's rules (16 digits, the profile's name rule); audited."""
    errors = {}
    if not (len(record.nik) == 16 and record.nik.isdigit()):
        errors["nik"] = [("nik", str(_("A NIK has exactly 16 digits (0-9).")))]
    if not (len(record.kk_number) == 16 and record.kk_number.isdigit()):
        errors["kk_number"] = [("kk_length", str(PROFILE_ERRORS["kk_length"]))]
    if not name_is_valid(clean_name(record.full_name)):
        errors["full_name"] = [("name_invalid", str(PROFILE_ERRORS["name_invalid"]))]
    if errors:
        raise RegistrationError(errors)
    civil_records_import(
        records=[
            CivilRecordInput(
                **{
                    **record.__dict__,
                    "full_name": clean_name(record.full_name),
                    "birth_place": clean_name(record.birth_place),
                }
            )
        ],
        actor=actor,
    )
    return CivilRecord.objects.get(nik=record.nik)


SCREENING_LIST_FIELDS = ("kind", "category", "name", "source", "reference_date", "reason", "is_active")
# A change to one of these changes who is excluded or prioritised: every applicant is re-screened.
SCREENING_EFFECT_FIELDS = ("kind", "category", "reason", "is_active")


def screening_list_save(*, screening_list_id: int | None, actor, **fields) -> ScreeningList:
    """Create a list or change its description (locked); audited with the values before and after.

    A change of kind, category, reason or activity re-applies the lists to every
    applicant, as ``screening_list_activate`` does. The NIKs change only by import.
    """
    unknown = set(fields) - set(SCREENING_LIST_FIELDS)
    if unknown:
        raise TypeError(f"unknown screening list fields: {sorted(unknown)}")
    with transaction.atomic():
        if screening_list_id is None:
            screening_list = ScreeningList(created_by=actor if getattr(actor, "pk", None) else None)
        else:
            screening_list = ScreeningList.objects.select_for_update().get(pk=screening_list_id)
        changes = field_changes_apply(screening_list, fields)
        if not screening_list.reason:
            with translation.override("id"):
                screening_list.reason = str(screening_list.get_category_display())
        screening_list.full_clean(exclude=["created_by"])
        if screening_list_id is None or changes:
            screening_list.save()
            audit_log(
                actor=actor,
                action="registration.screening_list_created"
                if screening_list_id is None
                else "registration.screening_list_changed",
                obj=screening_list,
                data={"changes": changes},
            )
    if screening_list_id is not None and set(changes) & set(SCREENING_EFFECT_FIELDS):
        screening_apply()
    return screening_list


def disnaker_staff_set(*, staff_id: int | None, actor, user, province, office_name: str = ""):
    """Bind an account to a Disnaker office and its province (the scope of its work); audited before/after."""
    with transaction.atomic():
        if staff_id is None:
            staff = DisnakerStaff(user=user, province=province, office_name=office_name)
            changes = {
                "user": [None, str(user)],
                "province": [None, province.code],
                "office_name": [None, office_name],
            }
        else:
            staff = (
                DisnakerStaff.objects.select_for_update().select_related("user", "province").get(pk=staff_id)
            )
            changes = {}
            if staff.user_id != user.pk:
                changes["user"] = [str(staff.user), str(user)]
            if staff.province_id != province.pk:
                changes["province"] = [staff.province_id, province.pk]
            if staff.office_name != office_name:
                changes["office_name"] = [staff.office_name, office_name]
            if not changes:
                return staff
            staff.user, staff.province, staff.office_name = user, province, office_name
        staff.full_clean()
        staff.save()
        audit_log(
            actor=actor,
            action="registration.disnaker_staff_created"
            if staff_id is None
            else "registration.disnaker_staff_changed",
            obj=staff,
            data={"changes": changes},
        )
    return staff
