"""Staff pages of the Kemnaker approval: Disnaker sends and follows, Kemnaker reviews and decides."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registration import kemnaker
from registration.enums import ItemDecision, ReturnReason, SubmissionStatus
from registration.views import disnaker_required


def kemnaker_required(view):
    """Signed-in Kemnaker officers (the review permission); others get 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(kemnaker.REVIEW_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _duplicate_rows(item) -> list[str]:
    rows = []
    for hit in item.duplicates:
        label = kemnaker.DUPLICATE_LABELS.get(hit.get("kind"), hit.get("kind"))
        where = hit.get("province") or "-"
        channel = _("online") if hit.get("channel") == "online" else _("offline")
        rows.append(f"{label}: {where} ({channel})")
    return rows


def _item_rows(items) -> list[dict]:
    return [
        {
            "item": item,
            "issues": [str(kemnaker.ISSUE_LABELS.get(code, code)) for code in item.issues],
            "duplicates": _duplicate_rows(item),
        }
        for item in items
    ]


# --- Disnaker ------------------------------------------------------------------------------------------


@disnaker_required
@never_cache
def staff_submissions(request: HttpRequest) -> HttpResponse:
    province = request.disnaker.province
    submissions = kemnaker.submissions_for_review().filter(province=province)
    page = Paginator(submissions, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "registration/staff/submissions.html",
        {
            "staff": request.disnaker,
            "page": page,
            "candidates": kemnaker.submission_candidates(province_id=province.pk).count(),
            "required": kemnaker.offline_approval_required(),
        },
    )


@disnaker_required
@require_POST
def staff_submission_send(request: HttpRequest) -> HttpResponse:
    try:
        submission = kemnaker.offline_submission_send(staff_user=request.user)
    except kemnaker.SubmissionError as exc:
        messages.error(request, str(exc.message))
        return redirect("registration:staff_submissions")
    messages.success(
        request,
        _("Submission %(ref)s with %(n)d people was sent to Kemnaker.")
        % {"ref": submission.reference, "n": submission.person_count},
    )
    return redirect("registration:staff_submission_detail", submission_id=submission.pk)


@disnaker_required
@never_cache
def staff_submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = get_object_or_404(
        kemnaker.submissions_for_review(), pk=submission_id, province=request.disnaker.province
    )
    return render(
        request,
        "registration/staff/submission_detail.html",
        {
            "staff": request.disnaker,
            "submission": submission,
            "rows": _item_rows(kemnaker.submission_items(submission)),
            "decisions": ItemDecision,
        },
    )


# --- Kemnaker ------------------------------------------------------------------------------------------


@kemnaker_required
@never_cache
def kemnaker_queue(request: HttpRequest) -> HttpResponse:
    submissions = kemnaker.submissions_for_review()
    waiting = submissions.filter(status=SubmissionStatus.SENT).order_by("sent_at", "id")
    decided = submissions.exclude(status=SubmissionStatus.SENT).order_by("-decided_at", "-id")
    return render(
        request,
        "registration/kemnaker/queue.html",
        {
            "waiting": waiting,
            "decided": Paginator(decided, 20).get_page(request.GET.get("page")),
            "required": kemnaker.offline_approval_required(),
        },
    )


@kemnaker_required
@never_cache
def kemnaker_review(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = get_object_or_404(kemnaker.submissions_for_review(), pk=submission_id)
    items = kemnaker.submission_items(submission)
    if request.method == "POST":
        returns = {}
        for item in items:
            reason = request.POST.get(f"reason-{item.pk}", "")
            if reason:
                returns[item.pk] = (reason, request.POST.get(f"note-{item.pk}", ""))
        try:
            kemnaker.offline_submission_decide(
                submission_id=submission.pk,
                officer=request.user,
                returns=returns,
                note=request.POST.get("note", "")[:2000],
            )
        except kemnaker.SubmissionError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("Decision recorded: %(approved)d approved, %(returned)d returned. Each person gets an SMS.")
                % {"approved": len(items) - len(returns), "returned": len(returns)},
            )
            return redirect("registration:kemnaker_queue")
        submission.refresh_from_db()
    rows = _item_rows(items)
    for row in rows:  # after a refusal, the officer's choices stay on the page
        row["reason"] = request.POST.get(f"reason-{row['item'].pk}", "") if request.method == "POST" else ""
        row["note"] = request.POST.get(f"note-{row['item'].pk}", "") if request.method == "POST" else ""
    return render(
        request,
        "registration/kemnaker/review.html",
        {
            "submission": submission,
            "rows": rows,
            "counts": kemnaker.submission_counts(submission=submission, items=items),
            "reasons": ReturnReason.choices,
            "open": submission.status == SubmissionStatus.SENT,
            "is_sender": submission.sent_by_id == request.user.pk,
        },
    )
