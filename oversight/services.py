"""Complaints: filing, the officers' triage, the person's replies, service levels.

Every write is here. Each officer action checks the officer's permission and scope
(``oversight.selectors.complaints_visible_to``) and writes an audit record in the same
transaction; every reply reaches the person by email and SMS in their language.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass

import holidays
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from oversight.enums import ACTIVE_STATUSES, ComplaintCategory, ComplaintStatus
from oversight.models import Complaint, ComplaintMessage
from oversight.selectors import complaints_visible_to
from prakerja.audit import audit_log
from prakerja.enums import NotificationChannel
from prakerja.notifications import notification_queue, notify_user, render_message
from prakerja.otp import sms_plain
from registration.models import Applicant
from registration.services import applicant_freeze, applicant_unfreeze, is_placeholder_account

TICKET_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
CODE_DIGITS = 6


class ComplaintError(Exception):
    """A refusal with a message for the person (already translated)."""


@dataclass
class Attachment:
    content: bytes
    name: str
    content_type: str


# --- Service levels --------------------------------------------------------------------


def _non_working_days(years: range) -> set[datetime.date]:
    """Indonesia's public holidays and collective leave (cuti bersama), plus days set in settings."""
    days = set(holidays.country_holidays("ID", years=years, categories=("public", "government")))
    days.update(settings.COMPLAINT_EXTRA_NON_WORKING_DAYS)
    return days


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """``start`` plus ``days`` working days in Asia/Jakarta: Monday to Friday, not a public holiday or cuti bersama."""
    local = timezone.localtime(start)
    closed = _non_working_days(range(local.year, local.year + 2))
    added = 0
    while added < days:
        local += datetime.timedelta(days=1)
        if local.weekday() < 5 and local.date() not in closed:
            added += 1
    return local


def _due_dates(now: datetime.datetime) -> dict:
    return {
        "first_answer_due": add_working_days(now, settings.COMPLAINT_FIRST_ANSWER_WORKING_DAYS),
        "resolution_due": now + datetime.timedelta(days=settings.COMPLAINT_RESOLUTION_DAYS),
    }


# --- Attachments -------------------------------------------------------------------------


def attachment_check(*, data: bytes, name: str) -> Attachment:
    """An image (stored re-encoded as JPEG, without metadata) or a PDF, at most COMPLAINT_ATTACHMENT_MAX_BYTES."""
    if len(data) > settings.COMPLAINT_ATTACHMENT_MAX_BYTES:
        raise ComplaintError(
            _("The attachment is too large (at most %(mb)s MB).")
            % {"mb": settings.COMPLAINT_ATTACHMENT_MAX_BYTES // (1024 * 1024)}
        )
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise ComplaintError(_("The PDF file is damaged or incomplete. Please attach it again."))
        return Attachment(content=data, name="lampiran.pdf", content_type="application/pdf")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("JPEG", "PNG", "WEBP"):
                raise ComplaintError(_("Attach a photo (JPEG, PNG) or a PDF file."))
            if probe.width * probe.height > settings.KYC_MAX_IMAGE_PIXELS:
                raise ComplaintError(_("The picture is too large. Please attach a smaller one."))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((2048, 2048))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=85)
    except ComplaintError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ComplaintError(_("Attach a photo (JPEG, PNG) or a PDF file.")) from exc
    return Attachment(content=out.getvalue(), name="lampiran.jpg", content_type="image/jpeg")


# --- Filing ------------------------------------------------------------------------------


def _new_ticket() -> str:
    return "ADU-" + "".join(secrets.choice(TICKET_ALPHABET) for _ in range(8))


def _create(**fields) -> Complaint:
    """Insert with a fresh ticket number (retrying the astronomically rare collision)."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Complaint.objects.create(ticket=_new_ticket(), **fields)
        except IntegrityError:
            continue
    raise ComplaintError(_("Please try again."))


def _store_attachment(complaint: Complaint, attachment: Attachment | None) -> None:
    if attachment is None:
        return
    complaint.attachment.save(attachment.name, ContentFile(attachment.content), save=False)
    Complaint.objects.filter(pk=complaint.pk).update(
        attachment=complaint.attachment.name, attachment_type=attachment.content_type
    )


def complaint_file(
    *,
    reporter,
    category: str,
    title: str,
    description: str,
    subject_ref: str = "",
    subject_label: str = "",
    attachment: Attachment | None = None,
    filed_by=None,
) -> Complaint:
    """A signed-in person's complaint (or one Disnaker staff file for a person they registered)."""
    if category not in ComplaintCategory.values or category == ComplaintCategory.NIK_MISUSE:
        raise ComplaintError(_("Choose a category."))
    applicant = Applicant.objects.filter(user=reporter).select_related("province").first()
    now = timezone.now()
    with transaction.atomic():
        complaint = _create(
            category=category,
            title=title.strip()[:150],
            description=description.strip(),
            reporter=reporter,
            filed_by=filed_by,
            applicant=applicant,
            province=applicant.province if applicant else None,
            contact_phone=applicant.phone if applicant and applicant.phone_verified_at else "",
            subject_ref=subject_ref,
            subject_label=subject_label[:200],
            language=reporter.language or "id",
            created_at=now,
            **_due_dates(now),
        )
        _store_attachment(complaint, attachment)
        audit_log(
            actor=filed_by or reporter,
            action="oversight.complaint_filed",
            obj=complaint,
            data={"category": category, "about": subject_ref, "for": reporter.pk if filed_by else None},
        )
        _notify(complaint, "oversight/complaint_received")
    return complaint


def _code_hash(complaint_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"complaint:{complaint_id}:{code}".encode(), hashlib.sha256).hexdigest()


def nik_misuse_report(*, nik: str, phone: str, description: str, language: str = "id") -> Complaint:
    """Step 1 of "someone registered with my NIK", without an account: send an SMS code to ``phone``.

    Nothing happens to the applicant until the code is confirmed. At most
    COMPLAINT_NIK_REPORTS_PER_PHONE_PER_DAY reports per number.
    """
    now = timezone.now()
    recent = Complaint.objects.filter(
        category=ComplaintCategory.NIK_MISUSE,
        contact_phone=phone,
        created_at__gte=now - datetime.timedelta(days=1),
    ).count()
    if recent >= settings.COMPLAINT_NIK_REPORTS_PER_PHONE_PER_DAY:
        raise ComplaintError(
            _("Too many reports were sent from this number today. Please call the call centre.")
        )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        complaint = _create(
            category=ComplaintCategory.NIK_MISUSE,
            status=ComplaintStatus.UNCONFIRMED,
            priority=True,
            title=_("Someone registered with my NIK"),
            description=description.strip(),
            contact_phone=phone,
            reported_nik=nik,
            language=language,
            created_at=now,
            confirm_expires_at=now + datetime.timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
        Complaint.objects.filter(pk=complaint.pk).update(confirm_code_hash=_code_hash(complaint.pk, code))
        with translation.override(language):
            text = _("Prakerja: your code to confirm report %(ticket)s is %(code)s. Never share it.") % {
                "ticket": complaint.ticket,
                "code": code,
            }
        notification_queue(
            channel=NotificationChannel.SMS, recipient=phone, body=sms_plain(text), sensitive=True
        )
    return complaint


def nik_misuse_confirm(*, complaint_id: int, code: str) -> Complaint:
    """Step 2: the SMS code. The report joins the priority queue and the NIK's applicant is put on hold."""
    code = "".join(ch for ch in str(code) if ch.isdigit())
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().filter(pk=complaint_id).first()
        if complaint is None or complaint.category != ComplaintCategory.NIK_MISUSE:
            raise ComplaintError(_("This report does not exist."))
        if complaint.status != ComplaintStatus.UNCONFIRMED:
            return complaint
        if complaint.confirm_attempts >= settings.OTP_MAX_ATTEMPTS:
            raise ComplaintError(_("Too many wrong codes. Please file the report again."))
        if complaint.confirm_expires_at is None or complaint.confirm_expires_at <= timezone.now():
            raise ComplaintError(_("The code has expired. Please file the report again."))
        if not hmac.compare_digest(complaint.confirm_code_hash, _code_hash(complaint.pk, code)):
            # Counted in this transaction, which commits: the error is raised after it.
            Complaint.objects.filter(pk=complaint.pk).update(confirm_attempts=complaint.confirm_attempts + 1)
            wrong = True
        else:
            wrong = False
    if wrong:
        raise ComplaintError(_("The code is not right. Check the SMS and try again."))
    now = timezone.now()
    with transaction.atomic():
        applicant = Applicant.objects.filter(nik=complaint.reported_nik).select_related("province").first()
        Complaint.objects.filter(pk=complaint.pk, status=ComplaintStatus.UNCONFIRMED).update(
            status=ComplaintStatus.OPEN,
            confirm_code_hash="",
            created_at=now,
            applicant=applicant,
            province=applicant.province if applicant else None,
            **_due_dates(now),
        )
        complaint.refresh_from_db()
        if applicant is not None:
            applicant_freeze(
                applicant=applicant,
                reason=_("report %(ticket)s that someone else registered with this NIK")
                % {"ticket": complaint.ticket},
            )
        audit_log(
            actor=None,
            action="oversight.nik_misuse_reported",
            obj=complaint,
            data={"applicant": applicant.pk if applicant else None, "nik": complaint.masked_nik},
        )
        _notify(complaint, "oversight/complaint_received")
    return complaint


# --- The person --------------------------------------------------------------------------


def complaint_reply_by_person(*, complaint: Complaint, user, body: str) -> ComplaintMessage:
    """The person adds to the thread; a complaint waiting for them goes back to the officers."""
    if complaint.reporter_id != user.pk:
        raise PermissionDenied
    if complaint.status == ComplaintStatus.RESOLVED:
        raise ComplaintError(_("This complaint is resolved. Reopen it if the problem is not solved."))
    with transaction.atomic():
        message = ComplaintMessage.objects.create(complaint=complaint, author=user, body=body.strip())
        Complaint.objects.filter(pk=complaint.pk, status=ComplaintStatus.WAITING).update(
            status=ComplaintStatus.ANSWERED
        )
        audit_log(actor=user, action="oversight.complaint_person_replied", obj=complaint)
    return message


def complaint_reopen(*, complaint: Complaint, user, body: str) -> Complaint:
    """Within COMPLAINT_REOPEN_DAYS of its resolution the person may reopen a complaint."""
    if complaint.reporter_id != user.pk:
        raise PermissionDenied
    limit = datetime.timedelta(days=settings.COMPLAINT_REOPEN_DAYS)
    if complaint.status != ComplaintStatus.RESOLVED or not complaint.resolved_at:
        raise ComplaintError(_("Only a resolved complaint can be reopened."))
    if complaint.resolved_at + limit < timezone.now():
        raise ComplaintError(
            _("A complaint can be reopened within %(days)s days of its resolution. Please file a new one.")
            % {"days": settings.COMPLAINT_REOPEN_DAYS}
        )
    now = timezone.now()
    with transaction.atomic():
        changed = Complaint.objects.filter(pk=complaint.pk, status=ComplaintStatus.RESOLVED).update(
            status=ComplaintStatus.OPEN,
            resolved_at=None,
            reopen_count=complaint.reopen_count + 1,
            resolution_due=now + datetime.timedelta(days=settings.COMPLAINT_RESOLUTION_DAYS),
        )
        if changed:
            ComplaintMessage.objects.create(complaint=complaint, author=user, body=body.strip())
            audit_log(actor=user, action="oversight.complaint_reopened", obj=complaint)
    complaint.refresh_from_db()
    return complaint


# --- Officers ----------------------------------------------------------------------------


def _officer_complaint(*, complaint_id: int, officer) -> Complaint:
    """Lock a complaint the officer may handle (permission, category of their role, province)."""
    if not officer.has_perm("oversight.handle_complaint"):
        raise PermissionDenied
    complaint = complaints_visible_to(officer).select_for_update().filter(pk=complaint_id).first()
    if complaint is None:
        raise PermissionDenied
    return complaint


def complaint_assign(*, complaint_id: int, officer, assignee) -> Complaint:
    with transaction.atomic():
        complaint = _officer_complaint(complaint_id=complaint_id, officer=officer)
        if not assignee.has_perm("oversight.handle_complaint"):
            raise ComplaintError(_("This officer cannot handle complaints."))
        Complaint.objects.filter(pk=complaint.pk).update(assigned_to=assignee)
        audit_log(
            actor=officer, action="oversight.complaint_assigned", obj=complaint, data={"to": assignee.pk}
        )
    complaint.refresh_from_db()
    return complaint


def complaint_reply(*, complaint_id: int, officer, body: str, waiting_for_person: bool = False) -> Complaint:
    """An officer answers; the person is told by email and SMS. Optionally waits for the person."""
    body = body.strip()
    if not body:
        raise ComplaintError(_("Write a reply."))
    now = timezone.now()
    with transaction.atomic():
        complaint = _officer_complaint(complaint_id=complaint_id, officer=officer)
        if complaint.status in (ComplaintStatus.RESOLVED, ComplaintStatus.UNCONFIRMED):
            raise ComplaintError(_("This complaint is not open."))
        ComplaintMessage.objects.create(complaint=complaint, author=officer, from_staff=True, body=body)
        Complaint.objects.filter(pk=complaint.pk).update(
            status=ComplaintStatus.WAITING if waiting_for_person else ComplaintStatus.ANSWERED,
            first_answer_at=complaint.first_answer_at or now,
            assigned_to=complaint.assigned_to or officer,
        )
        complaint.refresh_from_db()
        audit_log(
            actor=officer,
            action="oversight.complaint_replied",
            obj=complaint,
            data={"waiting_for_person": waiting_for_person},
        )
        _notify(complaint, "oversight/complaint_reply", {"reply": body})
    return complaint


def complaint_resolve(*, complaint_id: int, officer, body: str, lift_hold: bool = False) -> Complaint:
    """Close the complaint with a final answer. For a NIK-misuse report, ``lift_hold`` lets the applicant go on."""
    body = body.strip()
    if not body:
        raise ComplaintError(_("Write the answer that resolves the complaint."))
    now = timezone.now()
    with transaction.atomic():
        complaint = _officer_complaint(complaint_id=complaint_id, officer=officer)
        if complaint.status not in (ComplaintStatus.OPEN, ComplaintStatus.ANSWERED, ComplaintStatus.WAITING):
            raise ComplaintError(_("This complaint is not open."))
        ComplaintMessage.objects.create(complaint=complaint, author=officer, from_staff=True, body=body)
        Complaint.objects.filter(pk=complaint.pk).update(
            status=ComplaintStatus.RESOLVED,
            resolved_at=now,
            first_answer_at=complaint.first_answer_at or now,
            assigned_to=complaint.assigned_to or officer,
        )
        complaint.refresh_from_db()
        lifted = False
        if lift_hold and complaint.applicant_id:
            lifted = applicant_unfreeze(applicant=complaint.applicant, actor=officer, note=complaint.ticket)
        audit_log(
            actor=officer, action="oversight.complaint_resolved", obj=complaint, data={"hold_lifted": lifted}
        )
        _notify(complaint, "oversight/complaint_resolved", {"reply": body})
    return complaint


def complaints_escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """Mark open complaints past a service level as escalated (once) and tell the programme officers."""
    now = now or timezone.now()
    overdue = Complaint.objects.filter(status__in=ACTIVE_STATUSES, escalated_at__isnull=True).filter(
        Q(first_answer_at__isnull=True, first_answer_due__lt=now) | Q(resolution_due__lt=now)
    )
    escalated = 0
    for complaint_id in list(overdue.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            if Complaint.objects.filter(pk=complaint_id, escalated_at__isnull=True).update(escalated_at=now):
                complaint = Complaint.objects.get(pk=complaint_id)
                audit_log(actor=None, action="oversight.complaint_escalated", obj=complaint)
                escalated += 1
    return escalated


# --- Messages to the person --------------------------------------------------------------


def _notify(complaint: Complaint, template: str, extra: dict | None = None) -> None:
    context = {"complaint": complaint, "site_url": settings.SITE_URL, **(extra or {})}
    key = f"{template}:{complaint.pk}:{ComplaintMessage.objects.filter(complaint=complaint).count()}"
    user = complaint.reporter
    if user is not None and user.is_active and not is_placeholder_account(user):
        phone = complaint.contact_phone or None
        notify_user(user=user, template=template, context=context, phone=phone, idempotency_key=key)
        return
    if complaint.contact_phone:
        _subject, _email, sms = render_message(template, context, language=complaint.language or "id")
        notification_queue(
            channel=NotificationChannel.SMS,
            recipient=complaint.contact_phone,
            body=sms,
            user=user,
            idempotency_key=f"{key}:sms",
        )
