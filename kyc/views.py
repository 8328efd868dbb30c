from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from kyc.enums import CaseStatus, ImageKind
from kyc.forms import KycUploadForm, PhotoSizeLimitHandler
from kyc.messages import reason_message, size_limit_text
from kyc.models import KycSubmission
from kyc.selectors import kyc_case_for
from kyc.services import (
    REVIEW_PERMISSION,
    UploadNotAllowed,
    drafts_clear,
    kyc_submission_create,
    kyc_upload_blocker,
)
from registration.selectors import applicant_for_user


@login_required
@never_cache
@csrf_exempt
def upload(request: HttpRequest) -> HttpResponse:
    # The size limit must be in place before anything reads the request body,
    # so CSRF is checked right after (the documented pattern for upload handlers).
    handler = PhotoSizeLimitHandler(request, limit=settings.KYC_MAX_UPLOAD_BYTES)
    request.upload_handlers.insert(0, handler)
    return _upload(request, handler)


@csrf_protect
def _upload(request: HttpRequest, handler: PhotoSizeLimitHandler) -> HttpResponse:
    applicant = applicant_for_user(request.user)
    case = kyc_case_for(applicant)
    blocker = kyc_upload_blocker(applicant=applicant, case=case)
    if blocker:
        return render(request, "kyc/blocked.html", {"blocker": blocker, "case": case}, status=200)
    if request.method == "POST":
        form = KycUploadForm(request.POST, request.FILES, applicant=applicant, oversized=handler.oversized)
        valid = form.is_valid()
        form.save_drafts()
        if valid:
            try:
                kyc_submission_create(
                    applicant=applicant,
                    selfie_jpeg=form.photos[ImageKind.SELFIE],
                    ktp_jpeg=form.photos[ImageKind.KTP],
                )
            except UploadNotAllowed as exc:
                messages.warning(request, str(exc))
                return redirect("dashboard")
            drafts_clear(applicant_id=applicant.id)
            # No "still running" banner: the KYC step below says where the check stands, and updates itself.
            messages.success(request, _("Your photos were received."))
            return redirect("dashboard")
    else:
        form = KycUploadForm(applicant=applicant)
    last_problem = ""
    if case and case.status == CaseStatus.RETRY and case.latest_submission:
        latest = case.latest_submission
        if latest.reason:
            last_problem = reason_message(latest.reason, latest.failed_image)
        elif latest.decided_by_id:
            last_problem = _("An officer looked at your photos and asks you to take new ones.")
    return render(
        request,
        "kyc/upload.html",
        {
            "form": form,
            "case": case,
            "last_problem": last_problem,
            "attempt_number": (case.attempts_used if case else 0) + 1,
            "attempts_allowed": case.attempts_allowed if case else settings.KYC_MAX_ATTEMPTS,
            "retention_days": settings.KYC_PHOTO_RETENTION_DAYS,
            "size_limit": size_limit_text(),
            "max_bytes": settings.KYC_MAX_UPLOAD_BYTES,
            "too_large_message": _(
                "This photo is larger than %(mb)s MB. Take it again with the normal camera setting."
            )
            % {"mb": f"{settings.KYC_MAX_UPLOAD_BYTES / (1024 * 1024):g}"},
        },
    )


@login_required
@never_cache
def photo(request: HttpRequest, submission_id: int, image: str) -> HttpResponse:
    """A selfie or KTP photo, for KYC Reviewers only. Nothing else ever serves these files."""
    if not (request.user.is_staff and request.user.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied
    if image not in ImageKind.values:
        raise Http404
    submission = get_object_or_404(KycSubmission, id=submission_id)
    name = getattr(submission, image).name
    if not name or submission.photos_deleted_at or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store, max-age=0"
    response["Content-Disposition"] = f'inline; filename="kyc-{submission.id}-{image}.jpg"'
    response["X-Robots-Tag"] = "noindex"
    return response
