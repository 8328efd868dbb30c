"""The participant's pages: rate a completed training, the evaluation surveys (answers saved as they go)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cohorts.enums import ParticipantStatus
from marketplace.enums import VoucherStatus
from marketplace.selectors import purchase_of_user
from surveys import services
from surveys.enums import AssignmentState, QuestionKind
from surveys.exceptions import SurveyError
from surveys.forms import RatingForm
from surveys.models import Rating, SurveyAssignment, local_today


@login_required
@never_cache
def rate(request: HttpRequest, public_id) -> HttpResponse:
    """Rate a completed training: 1-5 stars and a review, once."""
    purchase = purchase_of_user(user=request.user, public_id=public_id)
    voucher = getattr(purchase, "voucher", None) if purchase else None
    if voucher is None:
        raise Http404(_("There is no such purchase in your account."))
    completion = getattr(voucher, "completion", None) if voucher.status == VoucherStatus.COMPLETED else None
    training = purchase.listing.training
    context = {"purchase": purchase, "training": training, "completion": completion}
    if completion is None:
        context["refusal"] = _("You can rate this training once the platform reports that you completed it.")
        return render(request, "surveys/rate.html", context)
    rating = Rating.objects.filter(completion=completion).first()
    if rating is not None:
        return render(request, "surveys/rate.html", {**context, "rating": rating})
    if purchase.participant.status != ParticipantStatus.ACTIVE:
        context["refusal"] = _(
            "Your Prakerja participation was revoked, so you can no longer rate trainings."
        )
        return render(request, "surveys/rate.html", context)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rating, created = services.rating_submit(
                user=request.user,
                completion_id=completion.pk,
                stars=form.cleaned_data["stars"],
                review=form.cleaned_data["review"],
            )
        except SurveyError as exc:
            form.add_error("review" if exc.code.startswith("review") else None, exc.message)
        else:
            if rating.counts_for_incentive:
                messages.success(
                    request, _("Thank you for your rating. Your incentive schedule has started.")
                )
            else:
                messages.success(request, _("Thank you for your rating."))
            return redirect("surveys:rate", public_id=purchase.public_id)
    return render(request, "surveys/rate.html", {**context, "form": form})


@login_required
@never_cache
def survey_list(request: HttpRequest) -> HttpResponse:
    today = local_today()
    assignments = list(
        SurveyAssignment.objects.filter(owner=request.user)
        .select_related("survey")
        .order_by("opens_on", "pk")
    )
    rows = [(a, a.state(today)) for a in assignments]
    return render(request, "surveys/list.html", {"rows": rows, "states": AssignmentState})


def _own_assignment(request, assignment_id: int) -> SurveyAssignment:
    assignment = (
        SurveyAssignment.objects.select_related("survey", "version")
        .filter(pk=assignment_id, owner=request.user)
        .first()
    )
    if assignment is None:
        raise Http404(_("This survey is not for you."))
    return assignment


def _posted_value(request, question):
    name = f"q{question.pk}"
    if question.kind == QuestionKind.MULTIPLE:
        return request.POST.getlist(name)
    return request.POST.get(name, "")


@login_required
@never_cache
def answer(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """One survey on one page (phone first). With JavaScript each answer is saved when given; without it
    the "Save" and "Send" buttons post the whole form. Answers are never lost: a reload shows them."""
    assignment = _own_assignment(request, assignment_id)
    state = assignment.state()
    version = services.assignment_version(assignment)
    if state != AssignmentState.OPEN or version is None:
        return render(
            request,
            "surveys/closed.html",
            {"assignment": assignment, "state": state, "states": AssignmentState},
        )
    questions = list(version.questions.order_by("position"))
    errors: dict[int, str] = {}
    if request.method == "POST":
        for question in questions:
            try:
                services.answer_save(
                    user=request.user,
                    assignment_id=assignment.pk,
                    question_id=question.pk,
                    value=_posted_value(request, question),
                )
            except SurveyError as exc:
                errors[question.pk] = str(exc.message)
        if not errors and "submit" in request.POST:
            try:
                services.assignment_submit(user=request.user, assignment_id=assignment.pk)
            except SurveyError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Thank you! Your answers were sent. The Rp50.000 survey incentive has been scheduled."),
                )
                return redirect("surveys:list")
        elif not errors:
            messages.success(request, _("Your answers are saved. You can come back before the deadline."))
            return redirect("surveys:answer", assignment_id=assignment.pk)
        assignment.refresh_from_db()
    values = services.answers_of(assignment)
    items = []
    for question in questions:
        value = values.get(question.pk, [] if question.kind == QuestionKind.MULTIPLE else "")
        if question.pk in errors:
            value = _posted_value(request, question)
        items.append({"question": question, "value": value, "error": errors.get(question.pk, "")})
    answered = sum(1 for q in questions if values.get(q.pk) not in (None, "", []))
    context = {
        "assignment": assignment,
        "items": items,
        "answered": answered,
        "total": len(questions),
        "percent": round(100 * answered / len(questions)) if questions else 0,
        "kinds": QuestionKind,
        "errors": errors,
    }
    return render(request, "surveys/answer.html", context)


@login_required
@require_POST
def answer_autosave(request: HttpRequest, assignment_id: int) -> JsonResponse:
    """Save one answer (the page's script posts each change). JSON: the progress, or a message."""
    assignment = _own_assignment(request, assignment_id)
    try:
        question_id = int(request.POST.get("question", ""))
    except ValueError:
        return JsonResponse(
            {"ok": False, "message": _("This question is not part of your survey.")}, status=400
        )
    multiple = request.POST.get("multiple") == "1"
    value = request.POST.getlist("value") if multiple else request.POST.get("value", "")
    try:
        saved = services.answer_save(
            user=request.user, assignment_id=assignment.pk, question_id=question_id, value=value
        )
    except SurveyError as exc:
        return JsonResponse({"ok": False, "code": exc.code, "message": str(exc.message)}, status=400)
    version = saved.version
    total = version.questions.count()
    answered = saved.answers.values("question_id").distinct().count()
    return JsonResponse(
        {
            "ok": True,
            "answered": answered,
            "total": total,
            "percent": round(100 * answered / total) if total else 0,
        }
    )
