from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prakerja.enums import NotificationChannel, NotificationStatus
from prakerja.prepared import RowReader


class UserManager(DjangoUserManager):
    """Users log in with their email address; there is no username."""

    use_in_migrations = True

    def get(self, *args, **kwargs):
        """``get(pk=...)`` (how sign-in and every signed-in request load the account) by a statement
        written once (``prakerja.prepared``); any other lookup is the queryset's ``get``."""
        if self.model is not User or args or len(kwargs) != 1 or next(iter(kwargs)) not in ("pk", "id"):
            return super().get(*args, **kwargs)
        (value,) = kwargs.values()
        if value is None or hasattr(value, "resolve_expression") or isinstance(value, models.Model):
            return super().get(*args, **kwargs)
        user = _user_by_pk.first(value, using=self.db)
        if user is None:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        return user

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        email = self.normalize_email(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """An account: applicant, officer, Disnaker staff or platform client."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="id",
        help_text=_("Emails and SMS to this person are sent in this language."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


_user_by_pk = RowReader(User, [("id", "exact")])


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an append-only record."""


class AuditEntry(models.Model):
    """One officer or system action, kept forever and never edited."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_repr = models.CharField(_("actor"), max_length=254, help_text=_("'system' for automatic actions"))
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("object type"), max_length=100, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        created = timezone.localtime(self.created_at) if self.created_at else None
        return f"{created:%Y-%m-%d %H:%M} {self.actor_repr} {self.action}" if created else self.action

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries are append-only")


class Notification(models.Model):
    """Outbox row for one email or SMS.

    Written in the same transaction as the change that causes it and sent
    afterwards by a task: QUEUED -> SENDING -> SENT, or back to QUEUED with a
    later ``next_attempt_at`` on a transient error, FAILED after the last try.
    """

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=NotificationChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sending_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=200, null=True, blank=True, unique=True
    )
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("One-time codes: the message text is erased once it has been sent."),
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="notification_due_idx",
                condition=models.Q(status__in=["queued", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"


class OneTimeCode(models.Model):
    """A 6-digit code sent by SMS for one purpose (see ``prakerja.otp``).

    Only an HMAC of the code is stored. A code is usable until it expires, is
    used, is replaced by a newer code for the same purpose, or has had too many
    wrong attempts.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    purpose = models.CharField(_("purpose"), max_length=32)
    phone = models.CharField(_("mobile number"), max_length=20)
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "purpose", "created_at"], name="otp_user_purpose_idx"),
            models.Index(fields=["phone", "created_at"], name="otp_phone_idx"),
            models.Index(fields=["user", "created_at"], name="otp_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} #{self.pk}"


class FallbackCacheEntry(models.Model):
    """Where the cache (rate-limit counters) lives while Redis is unreachable (``prakerja.cache``).

    The layout is Django's database cache table; only ``DatabaseCache`` reads and writes it.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "prakerja_cache_fallback"
        verbose_name = _("fallback cache entry")
        verbose_name_plural = _("fallback cache entries")

    def __str__(self) -> str:
        return self.cache_key
