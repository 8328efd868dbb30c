from __future__ import annotations

import uuid

import numpy as np
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kyc.enums import CaseStatus, ImageKind, Reason, RejectReason, ReviewReason, SubmissionStatus, Verdict
from registration.models import Applicant

ENCODING_DTYPE = np.float32
ENCODING_SIZE = 128


def encoding_to_bytes(encoding) -> bytes:
    return np.asarray(encoding, dtype=ENCODING_DTYPE).reshape(ENCODING_SIZE).tobytes()


def encoding_from_bytes(raw) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype=ENCODING_DTYPE)


def photo_path(instance, filename: str) -> str:
    """Random names: a file name never says whose face it is."""
    now = timezone.now()
    return f"kyc/{now:%Y/%m}/{uuid.uuid4().hex}.jpg"


class KycCase(models.Model):
    """One applicant's identity check: their submissions, attempts and the decision.

    ``status`` moves only through the transition functions in kyc/services.py.
    The waves app selects ``Applicant.objects.filter(kyc_case__status="verified")``.
    """

    applicant = models.OneToOneField(
        Applicant, on_delete=models.PROTECT, related_name="kyc_case", verbose_name=_("applicant")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.NOT_STARTED
    )
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    attempts_used = models.PositiveSmallIntegerField(_("attempts used"), default=0)
    extra_attempts = models.PositiveSmallIntegerField(
        _("extra attempts"), default=0, help_text=_("Granted by reviewers who asked for new photos.")
    )
    review_reason = models.CharField(
        _("review reason"), max_length=20, choices=ReviewReason.choices, blank=True
    )
    latest_submission = models.ForeignKey(
        "KycSubmission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("latest submission"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
        help_text=_("Empty when the system decided."),
    )
    reject_reason = models.CharField(
        _("rejection reason"), max_length=20, choices=RejectReason.choices, blank=True
    )
    decision_note = models.TextField(_("reviewer's note"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("KYC case")
        verbose_name_plural = _("KYC cases")
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="kyc_case_status_idx"),
        ]
        permissions = [
            ("review_kyccase", _("Can review KYC cases and see selfies and KTP photos")),
        ]

    def __str__(self) -> str:
        return str(self.applicant)

    @property
    def attempts_allowed(self) -> int:
        return settings.KYC_MAX_ATTEMPTS + self.extra_attempts

    @property
    def attempts_left(self) -> int:
        return max(self.attempts_allowed - self.attempts_used, 0)


class ReviewQueueCase(KycCase):
    """The cases waiting for a KYC Reviewer (the console's queue), oldest first."""

    class Meta:
        proxy = True
        verbose_name = _("KYC review queue item")
        verbose_name_plural = _("KYC review queue")


class KycSubmission(models.Model):
    """One upload of a selfie and a KTP photo, and what the engine (or a reviewer) said about it."""

    case = models.ForeignKey(
        KycCase, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("case")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    status = models.CharField(
        _("processing"), max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.QUEUED
    )
    started_at = models.DateTimeField(_("processing started"), null=True, blank=True)
    processing_attempts = models.PositiveSmallIntegerField(_("times picked up by a worker"), default=0)
    # The running check's lease: renewed while it runs; when it is older than KYC_LEASE_SECONDS the
    # worker is presumed dead and the sweeper puts the submission back in the queue.
    heartbeat_at = models.DateTimeField(_("last sign of life of the check"), null=True, blank=True)

    # Photos: re-encoded JPEGs without metadata in private storage. Emptied by
    # the retention job; the encodings and the decision stay.
    selfie = models.FileField(_("selfie"), upload_to=photo_path, blank=True, max_length=200)
    ktp = models.FileField(_("KTP photo"), upload_to=photo_path, blank=True, max_length=200)
    photos_deleted_at = models.DateTimeField(_("photos deleted"), null=True, blank=True)

    # What the system found.
    system_verdict = models.CharField(_("system verdict"), max_length=10, choices=Verdict.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    failed_image = models.CharField(_("photo concerned"), max_length=6, choices=ImageKind.choices, blank=True)
    distance = models.FloatField(_("face distance"), null=True, blank=True)
    faces_selfie = models.PositiveSmallIntegerField(_("faces in selfie"), null=True, blank=True)
    faces_ktp = models.PositiveSmallIntegerField(_("faces on KTP"), null=True, blank=True)
    duplicate_distance = models.FloatField(
        _("closest other verified face"),
        null=True,
        blank=True,
        help_text=_("Only set below the duplicate threshold."),
    )
    selfie_quality = models.JSONField(_("selfie quality"), default=dict, blank=True)
    ktp_quality = models.JSONField(_("KTP photo quality"), default=dict, blank=True)
    timings = models.JSONField(_("timings (ms)"), default=dict, blank=True)
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    model_version = models.CharField(_("model version"), max_length=200, blank=True)
    selfie_encoding = models.BinaryField(_("selfie encoding"), null=True, blank=True, editable=False)

    # The decision on this submission: the system's, or a reviewer's.
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
        help_text=_("Empty when the system decided."),
    )

    class Meta:
        verbose_name = _("KYC submission")
        verbose_name_plural = _("KYC submissions")
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="kyc_submission_case_number")]
        indexes = [
            models.Index(
                fields=["status", "started_at"],
                name="kyc_submission_pending_idx",
                condition=models.Q(status__in=["queued", "processing"]),
            ),
            models.Index(
                fields=["decided_at"],
                name="kyc_submission_photos_idx",
                condition=models.Q(photos_deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.number})"

    @property
    def has_photos(self) -> bool:
        return bool(self.selfie or self.ktp) and self.photos_deleted_at is None

    @property
    def decided_by_label(self) -> str:
        if self.decided_at is None:
            return ""
        return str(self.decided_by) if self.decided_by_id else str(_("system"))

    def encoding(self) -> np.ndarray | None:
        return None if self.selfie_encoding is None else encoding_from_bytes(self.selfie_encoding)


class VerifiedFace(models.Model):
    """The selfie encoding of a verified applicant, kept for the duplicate-face search."""

    applicant = models.OneToOneField(
        Applicant, on_delete=models.PROTECT, related_name="verified_face", verbose_name=_("applicant")
    )
    submission = models.ForeignKey(
        KycSubmission, on_delete=models.PROTECT, related_name="+", verbose_name=_("submission")
    )
    encoding = models.BinaryField(_("encoding"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("verified face")
        verbose_name_plural = _("verified faces")

    def __str__(self) -> str:
        return str(self.applicant)


class DuplicateCandidate(models.Model):
    """A verified applicant (another NIK) whose face is close to a submission's selfie."""

    submission = models.ForeignKey(
        KycSubmission,
        on_delete=models.PROTECT,
        related_name="duplicate_candidates",
        verbose_name=_("submission"),
    )
    other_applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, related_name="+", verbose_name=_("other applicant")
    )
    other_face = models.ForeignKey(
        VerifiedFace, on_delete=models.PROTECT, related_name="+", verbose_name=_("other verified face")
    )
    distance = models.FloatField(_("face distance"))

    class Meta:
        verbose_name = _("duplicate-face candidate")
        verbose_name_plural = _("duplicate-face candidates")
        ordering = ["distance"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "other_applicant"], name="kyc_duplicate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.other_applicant} ({self.distance:.3f})"
