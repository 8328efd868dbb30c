from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prakerja.masking import mask_identifier
from registration.enums import (
    Channel,
    CivilRegistryStatus,
    Education,
    EmploymentStatus,
    Gender,
    ImportKind,
    ImportStatus,
    ItemDecision,
    KemnakerStatus,
    ReturnReason,
    ScreeningCategory,
    ScreeningKind,
    SubmissionStatus,
)
from registration.import_registry import import_handler

SIXTEEN_DIGITS_NIK = RegexValidator(r"^\d{16}$", _("A NIK has exactly 16 digits (0-9)."), code="nik")
SIXTEEN_DIGITS_KK = RegexValidator(
    r"^\d{16}$", _("A family card (KK) number has exactly 16 digits."), code="kk_number"
)


class Province(models.Model):
    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Regency(models.Model):
    """Kabupaten or kota. ``code`` is dotted: ``32.75``."""

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="regencies")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("regency/city")
        verbose_name_plural = _("regencies/cities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """Kecamatan. ``code`` is dotted (``32.75.01``); a NIK starts with it undotted."""

    code = models.CharField(_("code"), max_length=8, primary_key=True)
    regency = models.ForeignKey(Regency, on_delete=models.PROTECT, related_name="districts")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def nik_prefix(self) -> str:
        return self.code.replace(".", "")

    @staticmethod
    def code_from_nik(nik: str) -> str:
        return f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"


class DisnakerStaff(models.Model):
    """A regional labour office (Disnaker) account, bound to one province."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disnaker", verbose_name=_("user")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="disnaker_staff", verbose_name=_("province")
    )
    office_name = models.CharField(_("office"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Disnaker staff member")
        verbose_name_plural = _("Disnaker staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.province})"


class Applicant(models.Model):
    """One person applying to the programme. One NIK, one applicant.

    Created with the account (online) or by Disnaker staff (offline). The
    profile fields are filled in by the applicant; the civil-registry,
    exclusion and priority fields only by services.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applicant",
        verbose_name=_("account"),
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )

    # Identity, as on the KTP. NIK is null until the profile is submitted.
    nik = models.CharField(_("NIK"), max_length=16, null=True, blank=True)
    kk_number = models.CharField(_("family card number (KK)"), max_length=16, blank=True, db_index=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    birth_place = models.CharField(_("place of birth"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    address = models.TextField(_("address"), blank=True)
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )
    regency = models.ForeignKey(
        Regency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("regency/city"),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
    )
    education = models.CharField(_("last education"), max_length=10, choices=Education.choices, blank=True)
    employment_status = models.CharField(
        _("employment status"), max_length=20, choices=EmploymentStatus.choices, blank=True
    )
    # The applicant declared, at this time and against this text version, that
    # they are not ASN, TNI/Polri, village official, DPR/DPRD, BUMN/BUMD board,
    # nor in formal education.
    declarations_version = models.CharField(_("declarations version"), max_length=20, blank=True)
    declarations_at = models.DateTimeField(_("declarations made"), null=True, blank=True)
    consent_version = models.CharField(_("consent version (UU PDP)"), max_length=20, blank=True)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    profile_completed_at = models.DateTimeField(_("profile completed"), null=True, blank=True)

    # Mobile number in E.164 (+628...), verified by SMS code.
    phone = models.CharField(_("mobile number"), max_length=20, blank=True, db_index=True)
    phone_verified_at = models.DateTimeField(_("mobile number verified"), null=True, blank=True)

    # Civil registry (Dukcapil) check.
    civil_status = models.CharField(
        _("civil registry check"),
        max_length=12,
        choices=CivilRegistryStatus.choices,
        default=CivilRegistryStatus.NOT_CHECKED,
        db_index=True,
    )
    civil_checked_at = models.DateTimeField(_("civil registry checked"), null=True, blank=True)
    civil_mismatch_fields = models.JSONField(_("fields that do not match"), default=list, blank=True)

    # Exclusion and priority lists (set by set-based services, never by hand).
    is_excluded = models.BooleanField(_("excluded"), default=False, db_index=True)
    exclusion_reason = models.CharField(_("exclusion reason"), max_length=200, blank=True)
    is_priority = models.BooleanField(_("priority"), default=False)
    # A report that someone else registered with this NIK freezes the applicant's progress (no wave, no
    # purchase, no new photos) until an officer decides (registration.services.applicant_freeze).
    frozen_at = models.DateTimeField(_("progress frozen"), null=True, blank=True)
    frozen_reason = models.CharField(_("reason frozen"), max_length=200, blank=True, db_default="")
    priority_source = models.CharField(_("priority source"), max_length=200, blank=True)
    exclusion_list = models.ForeignKey(
        "ScreeningList",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exclusion list"),
    )
    priority_list = models.ForeignKey(
        "ScreeningList",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("priority list"),
    )
    # An offline registrant (placeholder account) took the record over with their own account.
    claimed_at = models.DateTimeField(_("claimed online"), null=True, blank=True)
    # Kemnaker approval of an offline registration (registration.submissions). ``kemnaker_hold`` is what
    # the wave rules read: waiting or returned while the programme requires the approval.
    kemnaker_status = models.CharField(
        _("Kemnaker approval"),
        max_length=10,
        choices=KemnakerStatus.choices,
        blank=True,
        default="",
        db_default="",
    )
    kemnaker_hold = models.BooleanField(_("waiting for Kemnaker approval"), default=False, db_default=False)
    kemnaker_note = models.CharField(_("Kemnaker's reason"), max_length=300, blank=True, db_default="")

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        constraints = [
            models.UniqueConstraint(fields=["nik"], name="applicant_unique_nik"),
            # One verified mobile number per applicant: it receives codes and payouts news.
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(phone_verified_at__isnull=False),
                name="applicant_unique_verified_phone",
            ),
        ]
        indexes = [
            models.Index(fields=["province", "civil_status"], name="applicant_province_civil_idx"),
        ]
        permissions = [
            ("view_full_nik", _("Can see full NIK and KK numbers")),
            ("register_offline", _("Can register applicants offline (Disnaker)")),
        ]

    def __str__(self) -> str:
        name = self.full_name or str(self.user)
        return f"{name} ({self.masked_nik})" if self.nik else name

    @property
    def masked_nik(self) -> str:
        return mask_identifier(self.nik)

    @property
    def masked_kk(self) -> str:
        return mask_identifier(self.kk_number)

    @property
    def identity_locked(self) -> bool:
        """After the civil registry verified the identity, the applicant cannot change it."""
        return self.civil_status == CivilRegistryStatus.VERIFIED

    @property
    def profile_complete(self) -> bool:
        return self.profile_completed_at is not None

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None


class FamilyCard(models.Model):
    """One row per family card (KK) number: locked while an applicant joins it.

    The limit of applicants per KK is checked under this row lock, so two
    family members registering at the same moment cannot both squeeze past it.
    """

    kk_number = models.CharField(_("family card number (KK)"), max_length=16, primary_key=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("family card")
        verbose_name_plural = _("family cards")

    def __str__(self) -> str:
        return mask_identifier(self.kk_number)


class CivilRecord(models.Model):
    """A population record as the civil registry (Dukcapil) holds it.

    The local civil-registry backend answers from this table; officers load it
    from CSV/XLSX files in the console.
    """

    nik = models.CharField(_("NIK"), max_length=16, unique=True, validators=[SIXTEEN_DIGITS_NIK])
    kk_number = models.CharField(_("family card number (KK)"), max_length=16, validators=[SIXTEEN_DIGITS_KK])
    full_name = models.CharField(_("full name"), max_length=150)
    birth_place = models.CharField(_("place of birth"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("civil registry record")
        verbose_name_plural = _("civil registry records")

    def __str__(self) -> str:
        return mask_identifier(self.nik)

    @property
    def masked_nik(self) -> str:
        return mask_identifier(self.nik)


class ScreeningList(models.Model):
    """An exclusion or priority list of NIKs from one source, as of one date.

    Re-importing a file replaces the list's entries. Applicants are matched
    against every active list by ``screening_apply`` (set-based).
    """

    kind = models.CharField(_("kind"), max_length=10, choices=ScreeningKind.choices)
    category = models.CharField(_("category"), max_length=20, choices=ScreeningCategory.choices)
    name = models.CharField(_("name"), max_length=150)
    source = models.CharField(
        _("source"), max_length=150, help_text=_("e.g. BKN, Dapodik, BPJS Ketenagakerjaan")
    )
    reference_date = models.DateField(_("data as of"))
    reason = models.CharField(
        _("reason shown to the applicant"),
        max_length=200,
        blank=True,
        help_text=_("Leave empty to use the category name."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    entry_count = models.PositiveIntegerField(_("NIKs"), default=0)
    # Entries of the latest complete import; a running import writes batch + 1.
    current_batch = models.PositiveIntegerField(_("current batch"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_imported_at = models.DateTimeField(_("last imported"), null=True, blank=True)

    class Meta:
        verbose_name = _("exclusion or priority list")
        verbose_name_plural = _("exclusion and priority lists")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.source}, {self.reference_date:%d-%m-%Y})"

    @property
    def display_reason(self) -> str:
        return self.reason or str(self.get_category_display())


class ScreeningEntry(models.Model):
    screening_list = models.ForeignKey(
        ScreeningList, on_delete=models.CASCADE, related_name="entries", verbose_name=_("list")
    )
    batch = models.PositiveIntegerField(_("batch"), default=0)
    nik = models.CharField(_("NIK"), max_length=16, db_index=True)

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        constraints = [
            models.UniqueConstraint(
                fields=["screening_list", "batch", "nik"], name="screening_entry_unique_nik"
            )
        ]

    def __str__(self) -> str:
        return mask_identifier(self.nik)


def _import_upload_to(instance, filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{instance.kind}-{timezone.now():%Y%m%d%H%M%S}-{filename[-60:]}"


class ImportJob(models.Model):
    """A spreadsheet being checked (dry run) and then imported, in Celery.

    UPLOADED -> VALIDATING -> VALIDATED -> IMPORTING -> DONE, or FAILED /
    CANCELLED. The file is kept in private storage; ``errors`` holds the first
    row errors for the preview page.
    """

    # ImportKind, or the kind of a row handler another app registered (registration.import_registry).
    kind = models.CharField(_("kind"), max_length=40)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    file = models.FileField(_("file"), upload_to=_import_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )
    screening_list = models.ForeignKey(
        ScreeningList,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="imports",
        verbose_name=_("list"),
    )
    consent_confirmed = models.BooleanField(_("paper declarations and consent confirmed"), default=False)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    created_rows = models.PositiveIntegerField(_("imported rows"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    failure = models.TextField(_("failure"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_kind_display(self) -> str:
        handler = import_handler(self.kind)
        if handler is not None:
            return str(handler.label)
        return str(dict(ImportKind.choices).get(self.kind, self.kind))

    @property
    def progress_percent(self) -> int:
        total = (
            self.valid_rows if self.status in (ImportStatus.IMPORTING, ImportStatus.DONE) else self.total_rows
        )
        if not total:
            return 100 if self.status in (ImportStatus.DONE, ImportStatus.VALIDATED) else 0
        return min(100, int(self.processed_rows * 100 / total))

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.IMPORTING)


class OfflineSubmission(models.Model):
    """Offline registrations of one province that Disnaker sends to Kemnaker for approval.

    SENT -> APPROVED | PARTLY_APPROVED | RETURNED, decided once by a Kemnaker officer who is not the
    sender (registration.submissions). Only that module writes these rows.
    """

    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.SENT
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by")
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    person_count = models.PositiveIntegerField(_("people"), default=0)
    approved_count = models.PositiveIntegerField(_("approved"), default=0)
    returned_count = models.PositiveIntegerField(_("returned"), default=0)
    note = models.TextField(_("Kemnaker's note"), blank=True)

    class Meta:
        verbose_name = _("submission to Kemnaker")
        verbose_name_plural = _("submissions to Kemnaker")
        ordering = ["-sent_at", "-id"]
        permissions = [("review_offlinesubmission", _("Can review Disnaker submissions (Kemnaker)"))]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"KMN-{self.province_id}-{self.pk or 0:05d}"


class OfflineSubmissionItem(models.Model):
    """One person in a submission, with Kemnaker's decision and the checks shown to the reviewer."""

    submission = models.ForeignKey(
        OfflineSubmission, on_delete=models.CASCADE, related_name="items", verbose_name=_("submission")
    )
    applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, related_name="kemnaker_items", verbose_name=_("applicant")
    )
    decision = models.CharField(
        _("decision"), max_length=10, choices=ItemDecision.choices, default=ItemDecision.PENDING
    )
    return_reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Found when the submission was sent: row issues (codes) and possible duplicates (where, how).
    issues = models.JSONField(_("issues"), default=list, blank=True)
    duplicates = models.JSONField(_("possible duplicates"), default=list, blank=True)

    class Meta:
        verbose_name = _("person in a submission")
        verbose_name_plural = _("people in submissions")
        ordering = ["submission", "id"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "applicant"], name="submission_item_unique_person"),
            # A person waits in at most one submission at a time.
            models.UniqueConstraint(
                fields=["applicant"],
                condition=models.Q(decision="pending"),
                name="submission_item_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission} / {self.applicant}"
