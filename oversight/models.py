"""Complaints (pengaduan): a ticket about any step of the lifecycle, with a thread and service levels.

Only ``oversight.services`` writes these tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oversight.enums import ComplaintCategory, ComplaintStatus
from prakerja.masking import mask_identifier


class Complaint(models.Model):
    ticket = models.CharField(_("ticket number"), max_length=20, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=ComplaintCategory.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    priority = models.BooleanField(_("priority"), default=False)
    title = models.CharField(_("subject"), max_length=150)
    description = models.TextField(_("what happened"))
    language = models.CharField(_("language"), max_length=8, default="id")

    # Who it is from and about. A signed-in person files for themselves; Disnaker staff file for someone
    # they registered offline; a NIK-misuse report may come from someone without an account (phone only).
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("reporter"),
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filed by (staff)"),
    )
    applicant = models.ForeignKey(
        "registration.Applicant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("applicant concerned"),
    )
    province = models.ForeignKey(
        "registration.Province",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )
    contact_phone = models.CharField(_("contact number"), max_length=20, blank=True)
    reported_nik = models.CharField(_("NIK reported"), max_length=16, blank=True)
    # What it is about: one of the person's own objects, chosen from a list (e.g. marketplace.voucher:12).
    subject_ref = models.CharField(_("about"), max_length=64, blank=True)
    subject_label = models.CharField(_("about (label)"), max_length=200, blank=True)
    attachment = models.FileField(_("attachment"), upload_to="complaints/%Y/%m/", blank=True)
    attachment_type = models.CharField(max_length=40, blank=True)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    created_at = models.DateTimeField(_("filed"), default=timezone.now)
    first_answer_due = models.DateTimeField(_("first answer due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_answer_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    # The SMS code confirming an anonymous NIK-misuse report (an HMAC, never the code).
    confirm_code_hash = models.CharField(max_length=64, blank=True)
    confirm_attempts = models.PositiveSmallIntegerField(default=0)
    confirm_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-id"]
        permissions = [("handle_complaint", _("Can answer and resolve complaints"))]
        indexes = [
            models.Index(fields=["status", "priority", "first_answer_due"], name="complaint_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.ticket

    @property
    def masked_nik(self) -> str:
        return mask_identifier(self.reported_nik) if self.reported_nik else ""

    @property
    def is_overdue(self) -> bool:
        now = timezone.now()
        if self.status not in (ComplaintStatus.OPEN, ComplaintStatus.ANSWERED):
            return False
        if self.first_answer_at is None and self.first_answer_due and self.first_answer_due < now:
            return True
        return bool(self.resolution_due and self.resolution_due < now)


class ComplaintMessage(models.Model):
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="messages", verbose_name=_("complaint")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    from_staff = models.BooleanField(_("from the programme"), default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("complaint message")
        verbose_name_plural = _("complaint messages")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint} · {self.created_at:%Y-%m-%d %H:%M}"


class SummaryCount(models.Model):
    """One number of the programme's summary tables (oversight/summary.py), rebuilt set-based."""

    table = models.CharField(_("table"), max_length=40)
    group = models.CharField(_("group"), max_length=40, blank=True)
    metric = models.CharField(_("metric"), max_length=40)
    value = models.BigIntegerField(_("value"))
    refreshed_at = models.DateTimeField(_("refreshed"), default=timezone.now)

    class Meta:
        verbose_name = _("summary number")
        verbose_name_plural = _("summary numbers")
        default_permissions = ()
        permissions = [("view_programme_dashboard", _("Can see the programme dashboard"))]
        indexes = [models.Index(fields=["table", "group"], name="summary_table_group_idx")]

    def __str__(self) -> str:
        return f"{self.table}/{self.group}/{self.metric}={self.value}"


class MonitorAccess(models.Model):
    """An independent monitoring institution's account and the date its access ends (oversight/monitoring.py).

    Monitors read aggregated, pseudonymised data only (cells under 10 suppressed, the published draw
    files); every download is audited. Officers set and change the end date; only
    ``monitor_access_set`` writes this table.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="monitor_access",
        verbose_name=_("account"),
    )
    institution = models.CharField(_("monitoring institution"), max_length=200)
    expires_on = models.DateField(_("access ends after"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("monitoring access")
        verbose_name_plural = _("monitoring access")
        ordering = ["institution", "id"]
        permissions = [("use_monitoring", _("Can use the monitoring pages (independent monitor)"))]

    def __str__(self) -> str:
        return f"{self.institution} ({self.user})"

    def is_active(self, today) -> bool:
        return today <= self.expires_on
