"""Waves (gelombang), applications to them, selection runs and participants."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cohorts.enums import ApplicationStatus, ParticipantStatus, RunKind, RunStatus, WaveStatus
from disbursement.models import LedgerAccount
from prakerja.masking import mask_identifier
from registration.models import Applicant, Province


class Programme(models.Model):
    """Programme-wide settings. There is one row (pk=1); officers edit it in admin."""

    balance_amount = models.BigIntegerField(
        _("training balance (Rp)"), default=1_000_000, validators=[MinValueValidator(1)]
    )
    end_date = models.DateField(
        _("programme end date"), help_text=_("Leftover training balances are forfeited after this day.")
    )
    # The incentive schedule. surveys reads these and asks disbursement to schedule the payments.
    training_incentive_amount = models.BigIntegerField(
        _("training incentive per payment (Rp)"), default=600_000, validators=[MinValueValidator(1)]
    )
    training_incentive_count = models.PositiveSmallIntegerField(
        _("training incentive payments"), default=4, validators=[MinValueValidator(1)]
    )
    training_incentive_interval_days = models.PositiveSmallIntegerField(
        _("days between training incentive payments"), default=30, validators=[MinValueValidator(1)]
    )
    survey_incentive_amount = models.BigIntegerField(
        _("survey incentive (Rp)"), default=50_000, validators=[MinValueValidator(1)]
    )
    survey_incentive_due_days = models.PositiveSmallIntegerField(
        _("survey incentive paid within (days)"), default=14, validators=[MinValueValidator(1)]
    )
    # Offline (Disnaker) registrations join a wave only after Kemnaker approved them; some periods ran
    # without this step. registration reads it (cohorts registers the reader) and shows it to Disnaker.
    offline_approval_required = models.BooleanField(
        _("Kemnaker approves offline registrations"),
        default=True,
        help_text=_(
            "When on, people registered at a Disnaker office join a wave only after the Ministry of "
            "Manpower (Kemnaker) approved the office's submission."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("programme settings")
        verbose_name_plural = _("programme settings")

    def __str__(self) -> str:
        return str(_("Programme settings"))


class Wave(models.Model):
    number = models.PositiveIntegerField(_("wave number"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    opens_at = models.DateTimeField(_("registration opens"))
    closes_at = models.DateTimeField(_("registration closes"))
    total_quota = models.PositiveIntegerField(_("total quota"), validators=[MinValueValidator(1)])
    max_per_kk = models.PositiveSmallIntegerField(
        _("maximum participants per family card (KK)"), default=2, validators=[MinValueValidator(1)]
    )
    purchase_days = models.PositiveSmallIntegerField(
        _("days to buy the first training"), default=30, validators=[MinValueValidator(1)]
    )
    status = models.CharField(
        _("status"), max_length=12, choices=WaveStatus.choices, default=WaveStatus.DRAFT
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    # Written by the committed selection; reproducible from these.
    selection_seed = models.CharField(_("selection seed"), max_length=64, blank=True)
    selection_fingerprint = models.CharField(_("selection input fingerprint"), max_length=64, blank=True)
    selected_at = models.DateTimeField(_("selection committed"), null=True, blank=True)
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)

    # The public draw (draw_version 2, cohorts/draw.py). When the wave opens, its seed is chosen and only
    # the seed's SHA-256 is published; the seed itself is revealed with the announcement, with a draw
    # file in which each application appears under a keyed token. Waves drawn before this existed keep
    # version 1 (draw key from the applicant id), so their recorded selections still verify.
    draw_version = models.PositiveSmallIntegerField(_("draw version"), default=2, editable=False)
    seed_commitment = models.CharField(
        _("seed commitment (SHA-256)"), max_length=64, blank=True, editable=False
    )
    committed_seed = models.CharField(_("committed seed"), max_length=64, blank=True, editable=False)
    token_salt = models.CharField(_("draw token key"), max_length=64, blank=True, editable=False)
    seed_committed_at = models.DateTimeField(_("seed committed"), null=True, blank=True, editable=False)
    draw_file_sha256 = models.CharField(_("draw file SHA-256"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = pgettext_lazy("cohort", "wave")
        verbose_name_plural = pgettext_lazy("cohort", "waves")
        ordering = ["-number"]
        permissions = [
            ("run_selection", _("Can run and commit the selection of a wave")),
            ("announce_wave", _("Can announce a wave's results")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="wave_closes_after_opens"
            ),
        ]

    def __str__(self) -> str:
        # The name already says which wave ("Gelombang 3"); the number is its own column.
        return self.name or f"#{self.number}"

    @property
    def is_accepting(self) -> bool:
        now = timezone.now()
        return self.status == WaveStatus.OPEN and self.opens_at <= now < self.closes_at


class ProvinceQuota(models.Model):
    wave = models.ForeignKey(
        Wave, on_delete=models.CASCADE, related_name="province_quotas", verbose_name=_("wave")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    quota = models.PositiveIntegerField(_("quota"))

    class Meta:
        verbose_name = _("province quota")
        verbose_name_plural = _("province quotas")
        constraints = [models.UniqueConstraint(fields=["wave", "province"], name="province_quota_unique")]

    def __str__(self) -> str:
        return f"{self.province}: {self.quota}"


class Application(models.Model):
    """An applicant's place in a wave's pool ("Gabung Gelombang").

    A wave's selection rewrites every row once (status, draw rank), so no index
    covers those columns and the table keeps free room in each page: PostgreSQL
    then updates rows in place (HOT) without touching any index.
    """

    wave = models.ForeignKey(
        # Indexed by application_once_per_wave (wave, applicant).
        Wave,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("wave"),
        db_index=False,
    )
    applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, related_name="wave_applications", verbose_name=_("applicant")
    )
    created_at = models.DateTimeField(_("joined"), default=timezone.now)
    # Snapshots used by the selection, so a re-run on the same pool is identical.
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province"), db_index=False
    )
    kk_number = models.CharField(_("family card number (KK)"), max_length=16, blank=True)
    is_priority = models.BooleanField(_("priority"), default=False)
    status = models.CharField(
        _("status"), max_length=14, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    ineligible_reason = models.CharField(_("reason not eligible"), max_length=200, blank=True)
    draw_rank = models.PositiveIntegerField(_("rank in the draw"), null=True, blank=True)

    class Meta:
        verbose_name = _("wave application")
        verbose_name_plural = _("wave applications")
        constraints = [
            models.UniqueConstraint(fields=["wave", "applicant"], name="application_once_per_wave")
        ]

    def __str__(self) -> str:
        return f"{self.applicant} → {self.wave}"


class SelectionRun(models.Model):
    """One background job on a wave: a dry run, the committed selection, or the announcement."""

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="runs", verbose_name=_("wave"))
    kind = models.CharField(_("kind"), max_length=14, choices=RunKind.choices)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    fingerprint = models.CharField(_("input fingerprint"), max_length=64, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("selection run")
        verbose_name_plural = _("selection runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.wave}"


class Participant(models.Model):
    """A selected applicant: card number and training balance. One per applicant (so per NIK), ever."""

    applicant = models.OneToOneField(
        Applicant, on_delete=models.PROTECT, related_name="participant", verbose_name=_("applicant")
    )
    wave = models.ForeignKey(
        Wave, on_delete=models.PROTECT, related_name="participants", verbose_name=_("wave")
    )
    card_number = models.CharField(_("card number"), max_length=16)
    status = models.CharField(
        _("status"), max_length=10, choices=ParticipantStatus.choices, default=ParticipantStatus.ACTIVE
    )
    balance_account = models.OneToOneField(
        LedgerAccount,
        on_delete=models.PROTECT,
        related_name="participant",
        verbose_name=_("training balance account"),
    )
    created_at = models.DateTimeField(_("became a participant"), default=timezone.now)
    purchase_deadline = models.DateTimeField(_("buy the first training before"))
    first_purchase_at = models.DateTimeField(_("first training bought"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason revoked"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        # A constraint rather than unique=True: no second (LIKE) index; card numbers are matched exactly.
        constraints = [models.UniqueConstraint(fields=["card_number"], name="participant_unique_card_number")]
        indexes = [
            models.Index(
                fields=["purchase_deadline"],
                name="participant_deadline_idx",
                condition=models.Q(status="active", first_purchase_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.masked_card_number} ({self.applicant})"

    @property
    def masked_card_number(self) -> str:
        return mask_identifier(self.card_number)

    @property
    def formatted_card_number(self) -> str:
        n = self.card_number
        return " ".join(n[i : i + 4] for i in range(0, len(n), 4))


class Blacklist(models.Model):
    """Applicants barred from later waves (revoked participants, fraud)."""

    applicant = models.OneToOneField(
        Applicant, on_delete=models.PROTECT, related_name="blacklisting", verbose_name=_("applicant")
    )
    reason = models.CharField(_("reason"), max_length=200)
    wave = models.ForeignKey(
        Wave, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("wave")
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        verbose_name = _("blacklist entry")
        verbose_name_plural = _("blacklist")

    def __str__(self) -> str:
        return f"{self.applicant}: {self.reason}"
