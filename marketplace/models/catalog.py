"""Platforms, training providers, trainings and listings (the catalog half).

The buying half (purchases, vouchers, completions) is in ``buying.py`` and
builds on ``Listing``: a purchase points at one listing and copies its price.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.enums import (
    DocumentKind,
    ProviderStatus,
    TrainingCategory,
    TrainingLevel,
    TrainingMode,
    TrainingStatus,
)
from marketplace.rules import coordinates_problem, price_problem
from registration.models import District

# Listings carry a random key; the catalog breaks ties with a daily
# permutation of it, so no platform is systematically placed first.
SHUFFLE_MODULUS = 2_147_483_647  # a prime, 2**31 - 1


def new_shuffle_key() -> int:
    return secrets.randbelow(SHUFFLE_MODULUS)


nib_validator = RegexValidator(r"^\d{13}$", _("An NIB has exactly 13 digits."))


class Platform(models.Model):
    """A digital platform that sells trainings (Tokopedia, Pintaria, ...)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive platforms disappear from the catalog and the API.")
    )
    website = models.URLField(_("website"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    webhook_url = models.URLField(
        _("webhook URL"),
        blank=True,
        help_text=_("Where the portal will send signed event notifications (purchases, cancellations)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("digital platform")
        verbose_name_plural = _("digital platforms")
        ordering = ["name"]
        permissions = [
            ("use_platform_api", _("Can call the platform API")),
            ("rotate_platform_credentials", _("Can issue and revoke platform API credentials")),
        ]

    def __str__(self) -> str:
        return self.name


class PlatformCredential(models.Model):
    """One HMAC key pair of a platform. The secret is stored encrypted and shown once.

    Rotation issues a new credential and lets the previous ones expire after a
    grace period, so a platform can switch without downtime.
    """

    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="credentials", verbose_name=_("platform")
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


class ApiNonce(models.Model):
    """A nonce a platform has used; a second request with it is refused as a replay."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "nonce"], name="apinonce_unique")]

    def __str__(self) -> str:
        return self.nonce


class ApiIdempotencyRecord(models.Model):
    """The first response to a state-changing API call, replayed for the same Idempotency-Key."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "key"], name="apiidempotency_unique")]

    def __str__(self) -> str:
        return self.key


class Provider(models.Model):
    """A training provider (lembaga pelatihan): applies publicly, officers verify it."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    brand_name = models.CharField(
        _("brand name"), max_length=200, blank=True, help_text=_("The name learners know, if different.")
    )
    nib = models.CharField(
        _("NIB"),
        max_length=13,
        validators=[nib_validator],
        help_text=_("Business identification number (Nomor Induk Berusaha) from OSS, 13 digits."),
    )
    description = models.TextField(_("profile"), blank=True)
    address = models.TextField(_("address"))
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    website = models.URLField(_("website"), blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=ProviderStatus.choices, default=ProviderStatus.APPLIED
    )
    status_reason = models.TextField(_("reason for the decision"), blank=True)
    applied_at = models.DateTimeField(_("applied"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    affiliated_platforms = models.ManyToManyField(
        Platform,
        through="ProviderAffiliation",
        related_name="affiliated_providers",
        verbose_name=_("affiliated platforms"),
        blank=True,
    )

    class Meta:
        verbose_name = _("training provider")
        verbose_name_plural = _("training providers")
        ordering = ["legal_name"]
        constraints = [
            # A rejected provider may apply again; otherwise one NIB, one provider.
            models.UniqueConstraint(
                fields=["nib"],
                condition=~models.Q(status="rejected"),
                name="provider_unique_active_nib",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="provider_status_idx")]
        permissions = [("download_providerdocument", _("Can download provider documents"))]

    def __str__(self) -> str:
        return self.brand_name or self.legal_name

    @property
    def display_name(self) -> str:
        return str(self)


class ProviderAffiliation(models.Model):
    """A provider owned by, sharing owners with, or otherwise tied to a platform.

    The catalog discloses it on every listing of that provider on that platform.
    """

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="affiliations", verbose_name=_("provider")
    )
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="affiliations", verbose_name=_("platform")
    )
    relationship = models.CharField(
        _("relationship"),
        max_length=200,
        help_text=_("For example: same parent company, platform's own academy, shared shareholders."),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("affiliation with a platform")
        verbose_name_plural = _("affiliations with platforms")
        constraints = [
            models.UniqueConstraint(fields=["provider", "platform"], name="affiliation_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.provider} - {self.platform}"


def provider_document_path(instance: ProviderDocument, filename: str) -> str:
    # Never the uploader's file name on disk: a random name, the checked extension.
    suffix = PurePosixPath(filename).suffix.lower()[:6]
    return f"providers/{instance.provider_id}/{uuid.uuid4().hex}{suffix}"


class ProviderDocument(models.Model):
    """A private upload (curriculum, syllabus, ...). Served only to officers with permission."""

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="documents", verbose_name=_("provider")
    )
    kind = models.CharField(_("document"), max_length=12, choices=DocumentKind.choices)
    file = models.FileField(_("file"), upload_to=provider_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("provider document")
        verbose_name_plural = _("provider documents")
        ordering = ["provider", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class Training(models.Model):
    """A course offered by a provider. Listed only when approved and the provider is verified."""

    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="trainings", verbose_name=_("provider")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    category = models.CharField(_("category"), max_length=20, choices=TrainingCategory.choices)
    level = models.CharField(_("level"), max_length=12, choices=TrainingLevel.choices)
    mode = models.CharField(_("mode"), max_length=10, choices=TrainingMode.choices)
    duration_hours = models.PositiveSmallIntegerField(
        _("duration (hours)"), validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    price = models.BigIntegerField(
        _("price (Rp)"),
        validators=[MinValueValidator(1)],
        help_text=_("Whole rupiah. Platforms may sell at this price or lower, never higher."),
    )
    # Offline trainings: where they take place.
    address = models.CharField(_("venue address"), max_length=300, blank=True)
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("venue district"),
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )

    status = models.CharField(
        _("status"), max_length=10, choices=TrainingStatus.choices, default=TrainingStatus.DRAFT
    )
    status_reason = models.TextField(_("reason for the decision"), blank=True)
    submitted_at = models.DateTimeField(_("submitted for review"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    # Set only through marketplace.services.training_assessment_set (audited).
    assessment_required = models.BooleanField(
        _("ends with a competency assessment"),
        default=False,
        help_text=_("An accredited assessor institution assesses the participants who complete it."),
    )
    assessor_institution = models.ForeignKey(
        "marketplace.AssessorInstitution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trainings",
        verbose_name=_("assessor institution"),
    )
    # Filled by the surveys app through marketplace.services.training_rating_set.
    rating_average = models.DecimalField(_("average rating"), max_digits=3, decimal_places=2, default=0)
    rating_count = models.PositiveIntegerField(_("number of ratings"), default=0)

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["title"]
        indexes = [
            models.Index(fields=["status", "provider"], name="training_status_provider_idx"),
            models.Index(fields=["-decided_at"], name="training_decided_idx"),
            models.Index(fields=["-rating_average", "-rating_count"], name="training_rating_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="training_price_positive"),
            models.CheckConstraint(
                condition=models.Q(assessment_required=False) | models.Q(assessor_institution__isnull=False),
                name="training_assessment_has_institution",
            ),
            models.CheckConstraint(
                condition=models.Q(rating_average__gte=0, rating_average__lte=5), name="training_rating_range"
            ),
        ]
        # The full-text index (PostgreSQL only) is created in migration 0002.

    def __str__(self) -> str:
        return self.title

    def clean(self):
        super().clean()
        problem = price_problem(self.price) if self.price is not None else None
        if problem:
            raise ValidationError({"price": problem})
        if self.latitude is not None or self.longitude is not None:
            problem = coordinates_problem(self.latitude, self.longitude)
            if problem:
                raise ValidationError({"latitude": problem})


class TrainingSession(models.Model):
    """A scheduled session of a webinar (or an offline class)."""

    training = models.ForeignKey(
        Training, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("training")
    )
    starts_at = models.DateTimeField(_("starts"))

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at"]
        constraints = [models.UniqueConstraint(fields=["training", "starts_at"], name="session_unique_start")]

    def __str__(self) -> str:
        return f"{self.training} @ {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"


class Listing(models.Model):
    """A training sold on one platform, at the platform's price and address.

    A Purchase references a listing and copies its price.
    """

    training = models.ForeignKey(
        Training, on_delete=models.PROTECT, related_name="listings", verbose_name=_("training")
    )
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="listings", verbose_name=_("platform")
    )
    sku = models.CharField(_("SKU"), max_length=64, help_text=_("The platform's own product code."))
    url = models.URLField(_("page on the platform"), max_length=500)
    price = models.BigIntegerField(_("price (Rp)"), validators=[MinValueValidator(1)])
    is_available = models.BooleanField(
        _("available"), default=True, help_text=_("The platform can pause sales through the API.")
    )
    shuffle_key = models.BigIntegerField(default=new_shuffle_key, editable=False)
    created_at = models.DateTimeField(_("listed"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = ["platform", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "sku"], name="listing_unique_sku"),
            models.UniqueConstraint(fields=["platform", "training"], name="listing_unique_training"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="listing_price_positive"),
        ]
        indexes = [
            models.Index(fields=["price"], name="listing_price_idx"),
            models.Index(fields=["training", "is_available"], name="listing_training_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.training} ({self.platform})"

    def clean(self):
        super().clean()
        if self.price is None or not self.training_id:
            return
        problem = price_problem(self.price, ceiling=Training.objects.get(pk=self.training_id).price)
        if problem:
            raise ValidationError({"price": problem})


class CatalogVersion(models.Model):
    """One row whose number changes with everything the public catalog shows.

    Every service that changes a training, listing, platform, provider,
    affiliation or rating bumps it in the same transaction as the change
    (``marketplace.catalog_cache.catalog_version_bump``). Cached catalog pages are
    keyed on it, so a change is visible on the next request once it commits.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=1)

    class Meta:
        verbose_name = _("catalog version")
        verbose_name_plural = _("catalog versions")

    def __str__(self) -> str:
        return str(self.value)
