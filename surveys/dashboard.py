"""Dashboard steps: rate the counted training (``rating``) and the evaluation surveys (``survey``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.models import Completion
from prakerja.dashboard import Step, StepStatus
from surveys.enums import AssignmentState
from surveys.models import SurveyAssignment, local_today


def _date(value) -> str:
    return value.strftime("%d-%m-%Y")


def dashboard_steps(request) -> list[Step]:
    user = request.user
    rating_title = _("Rate your training")
    survey_title = _("Evaluation surveys")
    completion = (
        Completion.objects.filter(participant__applicant__user=user, counts_for_incentive=True)
        .select_related("voucher__purchase", "voucher__training", "rating")
        .first()
    )
    # Read on every view, so the dashboard's query count does not depend on where the person stands.
    assignments = list(
        SurveyAssignment.objects.filter(owner=user).select_related("survey").order_by("opens_on")
    )
    if completion is None:
        return [
            Step("rating", rating_title, StepStatus.LOCKED, _("After you complete your first training.")),
            Step("survey", survey_title, StepStatus.LOCKED, _("After you rate your training.")),
        ]
    rating = getattr(completion, "rating", None)
    if rating is None:
        return [
            Step(
                "rating",
                rating_title,
                StepStatus.CURRENT,
                _("Give “%(title)s” 1-5 stars and a short review: your incentive schedule starts then.")
                % {"title": completion.voucher.training.title},
                action_url=reverse(
                    "surveys:rate", kwargs={"public_id": completion.voucher.purchase.public_id}
                ),
                action_label=_("Rate the training"),
            ),
            Step("survey", survey_title, StepStatus.LOCKED, _("After you rate your training.")),
        ]
    rated = Step(
        "rating",
        rating_title,
        StepStatus.DONE,
        _("You gave %(stars)s stars. Your incentive schedule has started.") % {"stars": rating.stars},
    )
    today = local_today()
    assignments = list(
        SurveyAssignment.objects.filter(owner=user).select_related("survey").order_by("opens_on")
    )
    states = [(a, a.state(today)) for a in assignments]
    open_ = [a for a, s in states if s == AssignmentState.OPEN]
    upcoming = [a for a, s in states if s == AssignmentState.NOT_YET_OPEN]
    done = sum(1 for _a, s in states if s == AssignmentState.SUBMITTED)
    if open_:
        first = open_[0]
        survey = Step(
            "survey",
            survey_title,
            StepStatus.CURRENT,
            _(
                "“%(title)s” is open until %(date)s. Rp50.000 for answering; your answers do not affect payment."
            )
            % {"title": first.survey.title, "date": _date(first.deadline)},
            action_url=reverse("surveys:answer", kwargs={"assignment_id": first.pk}),
            action_label=_("Answer the survey"),
        )
    elif upcoming:
        survey = Step(
            "survey",
            survey_title,
            StepStatus.LOCKED,
            _("After %(date)s: the next survey opens then (%(done)s of %(total)s answered).")
            % {"date": _date(upcoming[0].opens_on), "done": done, "total": len(assignments)},
            action_url=reverse("surveys:list"),
            action_label=_("My surveys"),
        )
    elif assignments:
        survey = Step(
            "survey",
            survey_title,
            StepStatus.DONE,
            _("%(done)s of %(total)s surveys answered.") % {"done": done, "total": len(assignments)},
            action_url=reverse("surveys:list"),
            action_label=_("My surveys"),
        )
    else:
        survey = Step(
            "survey", survey_title, StepStatus.LOCKED, _("After your first incentive is scheduled.")
        )
    return [rated, survey]
