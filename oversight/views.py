"""Complaints for people (/pengaduan/), the NIK-misuse report without an account, and Disnaker filing."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cohorts.models import Application
from kyc.models import KycCase
from marketplace.models import Voucher
from oversight import forms, services
from oversight.enums import ComplaintStatus
from oversight.models import Complaint
from oversight.selectors import complaints_of, complaints_visible_to
from registration.enums import Channel
from registration.models import Applicant
from registration.selectors import applicant_for_user
from registration.views import disnaker_required

NIK_REPORT_SESSION_KEY = "oversight_nik_report"


def _subjects(user) -> list[tuple[str, str]]:
    """The person's own things a complaint can be about: identity check, wave applications, vouchers."""
    applicant = applicant_for_user(user)
    if applicant is None:
        return []
    subjects = []
    case = KycCase.objects.filter(applicant=applicant).first()
    if case:
        subjects.append(
            (
                f"kyc.kyccase:{case.pk}",
                _("Identity check (%(status)s)") % {"status": case.get_status_display()},
            )
        )
    for application in (
        Application.objects.filter(applicant=applicant).select_related("wave").order_by("-wave__number")[:5]
    ):
        subjects.append((f"cohorts.application:{application.pk}", str(application.wave)))
    vouchers = (
        Voucher.objects.filter(participant__applicant=applicant)
        .select_related("training")
        .order_by("-id")[:20]
    )
    for voucher in vouchers:
        subjects.append((f"marketplace.voucher:{voucher.pk}", f"{voucher.training.title} ({voucher.code})"))
    return subjects


def _attachment(form) -> services.Attachment | None:
    upload = form.cleaned_data.get("attachment")
    if not upload:
        return None
    return services.attachment_check(data=upload.read(), name=upload.name)


@login_required
@never_cache
def complaint_list(request):
    page = Paginator(complaints_of(request.user).order_by("-id"), 20).get_page(request.GET.get("page"))
    return render(request, "oversight/complaint_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def complaint_new(request):
    subjects = _subjects(request.user)
    form = forms.ComplaintForm(request.POST or None, request.FILES or None, subjects=subjects)
    if request.method == "POST" and form.is_valid():
        ref = form.cleaned_data["subject_ref"]
        try:
            complaint = services.complaint_file(
                reporter=request.user,
                category=form.cleaned_data["category"],
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                subject_ref=ref,
                subject_label=form.subject_labels.get(ref, ""),
                attachment=_attachment(form),
            )
        except services.ComplaintError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "Your complaint was received. Ticket number: %(ticket)s. We answer within %(days)s working days."
                )
                % {"ticket": complaint.ticket, "days": settings.COMPLAINT_FIRST_ANSWER_WORKING_DAYS},
            )
            return redirect("oversight:complaint_detail", ticket=complaint.ticket)
    return render(request, "oversight/complaint_form.html", {"form": form})


def _own_complaint(request, ticket: str) -> Complaint:
    complaint = complaints_of(request.user).filter(ticket=ticket).first()
    if complaint is None:
        raise Http404(_("No such complaint."))
    return complaint


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def complaint_detail(request, ticket: str):
    complaint = _own_complaint(request, ticket)
    form = forms.MessageForm(request.POST or None)
    reopen_until = None
    if complaint.status == ComplaintStatus.RESOLVED and complaint.resolved_at:
        reopen_until = complaint.resolved_at + datetime.timedelta(days=settings.COMPLAINT_REOPEN_DAYS)
        if reopen_until < timezone.now():
            reopen_until = None
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("reopen"):
                services.complaint_reopen(
                    complaint=complaint, user=request.user, body=form.cleaned_data["body"]
                )
                messages.success(request, _("Your complaint was reopened."))
            else:
                services.complaint_reply_by_person(
                    complaint=complaint, user=request.user, body=form.cleaned_data["body"]
                )
                messages.success(request, _("Your message was sent."))
        except services.ComplaintError as exc:
            messages.error(request, str(exc))
        return redirect("oversight:complaint_detail", ticket=complaint.ticket)
    return render(
        request,
        "oversight/complaint_detail.html",
        {
            "complaint": complaint,
            "thread": complaint.messages.select_related("author"),
            "form": form,
            "reopen_until": reopen_until,
        },
    )


@login_required
def complaint_attachment(request, ticket: str):
    """The attachment, to the person who filed it and to officers who may see the complaint; never public."""
    complaint = Complaint.objects.filter(ticket=ticket).first()
    if complaint is None or not complaint.attachment:
        raise Http404
    allowed = (
        complaint.reporter_id == request.user.pk
        or complaints_visible_to(request.user).filter(pk=complaint.pk).exists()
    )
    if not allowed:
        raise PermissionDenied
    extension = "pdf" if complaint.attachment_type == "application/pdf" else "jpg"
    response = FileResponse(
        complaint.attachment.open("rb"),
        content_type=complaint.attachment_type or "application/octet-stream",
        as_attachment=True,
        filename=f"{complaint.ticket}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- "Someone registered with my NIK", without an account --------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def nik_report(request):
    form = forms.NikReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.nik_misuse_report(
                nik=form.cleaned_data["nik"],
                phone=form.cleaned_data["phone"],
                description=form.cleaned_data["description"],
                language=translation.get_language() or "id",
            )
        except services.ComplaintError as exc:
            form.add_error(None, str(exc))
        else:
            # Only this browser may confirm the report: the code page takes the id from the session.
            request.session[NIK_REPORT_SESSION_KEY] = complaint.pk
            return redirect("oversight:nik_report_code")
    return render(request, "oversight/nik_report.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def nik_report_code(request):
    complaint_id = request.session.get(NIK_REPORT_SESSION_KEY)
    complaint = Complaint.objects.filter(pk=complaint_id).first() if complaint_id else None
    if complaint is None:
        messages.info(request, _("Fill in the report first."))
        return redirect("oversight:nik_report")
    form = forms.CodeForm(request.POST or None)
    if complaint.status != ComplaintStatus.UNCONFIRMED:
        return render(request, "oversight/nik_report_done.html", {"complaint": complaint})
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.nik_misuse_confirm(complaint_id=complaint.pk, code=form.cleaned_data["code"])
        except services.ComplaintError as exc:
            form.add_error("code", str(exc))
        else:
            return render(request, "oversight/nik_report_done.html", {"complaint": complaint})
    return render(request, "oversight/nik_report_code.html", {"form": form, "complaint": complaint})


# --- Disnaker staff file for people they registered offline -------------------------------------


@disnaker_required
@require_http_methods(["GET", "POST"])
def staff_complaint_new(request):
    form = forms.StaffComplaintForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        applicant = (
            Applicant.objects.filter(
                nik=form.cleaned_data["nik"], province=request.disnaker.province, channel=Channel.OFFLINE
            )
            .select_related("user")
            .first()
        )
        if applicant is None:
            form.add_error("nik", _("No one with this NIK was registered offline in your province."))
        else:
            try:
                complaint = services.complaint_file(
                    reporter=applicant.user,
                    filed_by=request.user,
                    category=form.cleaned_data["category"],
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    attachment=_attachment(form),
                )
            except services.ComplaintError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Complaint %(ticket)s was filed. The person gets the answers by SMS.")
                    % {"ticket": complaint.ticket},
                )
                return redirect("oversight:staff_complaints")
    return render(request, "oversight/staff_complaint_form.html", {"form": form})


@disnaker_required
@never_cache
def staff_complaints(request):
    complaints = Complaint.objects.filter(filed_by=request.user).select_related("applicant").order_by("-id")
    page = Paginator(complaints, 20).get_page(request.GET.get("page"))
    return render(request, "oversight/staff_complaints.html", {"page": page})
