"""Job platforms and the participants' job profiles they may read.

    JobPlatform ──< JobPlatformCredential          HMAC keys, the secret encrypted (same scheme as
                                                    the training platforms' API)
    Participant ──1 JobProfile ──< JobSharingConsent >── JobPlatform
                                                    one row per grant; withdrawn_at ends it
    JobProfile ──< JobOpening (sent by a platform for this person, shown on "Lowongan")
    JobProfile ──< JobOutcome (applied / interviewed / hired, reported by a platform)

A platform reads a profile only while its consent row is active (``withdrawn_at`` empty):
the check runs on every API call, so a withdrawal stops sharing at once. A profile holds
what the person writes (the summary); name, regency, education and certificates are read
from the applicant and the completions when a platform asks. Never NIK, photos or money.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorts.models import Participant
from employment.enums import OutcomeKind


class JobPlatform(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive platforms cannot call the API.")
    )
    website = models.URLField(_("website"), blank=True)
    description = models.CharField(
        _("description for participants"),
        max_length=300,
        blank=True,
        help_text=_("Shown on the consent page."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("job platform")
        verbose_name_plural = _("job platforms")
        ordering = ["name"]
        permissions = [
            ("rotate_jobplatform_credentials", _("Can issue and revoke job platform API credentials"))
        ]

    def __str__(self) -> str:
        return self.name


class JobPlatformCredential(models.Model):
    """One HMAC key pair of a job platform; the secret is stored encrypted and shown once."""

    platform = models.ForeignKey(
        JobPlatform, on_delete=models.CASCADE, related_name="credentials", verbose_name=_("job platform")
    )
    key_id = models.CharField(_("key id"), max_length=64, unique=True)
    secret_encrypted = models.TextField(_("secret (encrypted)"))
    secret_hint = models.CharField(_("secret ends with"), max_length=8)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API credential")
        verbose_name_plural = _("API credentials")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key_id

    def is_valid(self, now=None) -> bool:
        now = now or timezone.now()
        return self.expires_at is None or self.expires_at > now


class JobApiNonce(models.Model):
    """A nonce a job platform used; a second use is refused (replay)."""

    platform = models.ForeignKey(JobPlatform, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "nonce"], name="jobapinonce_unique")]

    def __str__(self) -> str:
        return self.nonce


class JobProfile(models.Model):
    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="job_profile", verbose_name=_("participant")
    )
    # The id job platforms see: never the card number or NIK.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    summary = models.TextField(_("short summary"), max_length=600, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("job profile")
        verbose_name_plural = _("job profiles")

    def __str__(self) -> str:
        return str(self.public_id)


class JobSharingConsent(models.Model):
    """The person's consent to share the job profile with one platform (UU PDP): explicit, revocable."""

    profile = models.ForeignKey(
        JobProfile, on_delete=models.CASCADE, related_name="consents", verbose_name=_("job profile")
    )
    platform = models.ForeignKey(
        JobPlatform, on_delete=models.PROTECT, related_name="consents", verbose_name=_("job platform")
    )
    text_version = models.CharField(_("consent text version"), max_length=20)
    granted_at = models.DateTimeField(_("given"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("sharing consent")
        verbose_name_plural = _("sharing consents")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "platform"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="jobconsent_one_active_per_platform",
            )
        ]
        indexes = [models.Index(fields=["platform", "withdrawn_at"], name="jobconsent_platform_idx")]

    def __str__(self) -> str:
        return f"{self.profile} → {self.platform}"


class JobOpening(models.Model):
    """A job a platform sent for one person; shown on their "Lowongan" page."""

    platform = models.ForeignKey(
        JobPlatform, on_delete=models.PROTECT, related_name="openings", verbose_name=_("job platform")
    )
    profile = models.ForeignKey(
        JobProfile, on_delete=models.CASCADE, related_name="openings", verbose_name=_("job profile")
    )
    external_id = models.CharField(_("platform's id"), max_length=64)
    title = models.CharField(_("position"), max_length=150)
    company = models.CharField(_("company"), max_length=150)
    location = models.CharField(_("location"), max_length=150, blank=True)
    url = models.URLField(_("link"), max_length=500)
    closes_on = models.DateField(_("closes on"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("job opening")
        verbose_name_plural = _("job openings")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "profile", "external_id"], name="jobopening_unique_external_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.company}"


class JobOutcome(models.Model):
    """What happened: the person applied, was interviewed or was hired (reported by the platform)."""

    platform = models.ForeignKey(
        JobPlatform, on_delete=models.PROTECT, related_name="outcomes", verbose_name=_("job platform")
    )
    profile = models.ForeignKey(
        JobProfile, on_delete=models.CASCADE, related_name="outcomes", verbose_name=_("job profile")
    )
    opening = models.ForeignKey(
        JobOpening,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outcomes",
        verbose_name=_("job opening"),
    )
    job_reference = models.CharField(_("job reference"), max_length=64)
    kind = models.CharField(_("outcome"), max_length=12, choices=OutcomeKind.choices)
    occurred_on = models.DateField(_("date"))
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        verbose_name = _("job outcome")
        verbose_name_plural = _("job outcomes")
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "profile", "job_reference", "kind"], name="joboutcome_unique"
            )
        ]
        indexes = [models.Index(fields=["kind", "platform"], name="joboutcome_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.job_reference}"
