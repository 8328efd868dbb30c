"""Ratings and reviews: the gate to the training incentive, and the catalog's real rating numbers."""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorts.enums import ParticipantStatus
from cohorts.models import Participant
from cohorts.services import programme_get
from disbursement.enums import EntitlementKind
from disbursement.services import entitlements_schedule
from marketplace.enums import VoucherStatus
from marketplace.models import Completion
from marketplace.services import training_ratings_set_bulk
from prakerja.audit import audit_log
from prakerja.notifications import notify_user
from surveys.exceptions import SurveyError
from surveys.models import REVIEW_MAX_LENGTH, Rating

REVIEW_MIN_WORDS = 3


def _review_clean(review: str) -> str:
    review = re.sub(r"[ \t]+", " ", (review or "").strip())
    if len(re.findall(r"\w+", review)) < REVIEW_MIN_WORDS:
        raise SurveyError(
            _("Write a review of at least %(count)s words about the training.") % {"count": REVIEW_MIN_WORDS},
            code="review_too_short",
        )
    if len(review) > REVIEW_MAX_LENGTH:
        raise SurveyError(
            _("The review is too long (at most %(count)s characters).") % {"count": REVIEW_MAX_LENGTH},
            code="review_too_long",
        )
    return review


def rating_submit(*, user, completion_id: int, stars: int, review: str) -> tuple[Rating, bool]:
    """Rate a completed training once; returns (rating, created).

    Rating the participant's first completed training (``Completion.counts_for_incentive``) schedules the
    training incentive through ``disbursement`` and assigns the evaluation surveys. A second submit, also at
    the same moment, finds the first rating (unique per completion) and schedules nothing more.
    """
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise SurveyError(_("Choose from 1 to 5 stars."), code="stars_invalid")
    review = _review_clean(review)
    completion = (
        Completion.objects.select_related("voucher__training", "participant__applicant")
        .filter(pk=completion_id, participant__applicant__user=user)
        .first()
    )
    if completion is None or completion.voucher.status != VoucherStatus.COMPLETED:
        raise SurveyError(_("You can only rate a training you completed."), code="not_completed")
    existing = Rating.objects.filter(completion=completion).first()
    if existing is not None:
        return existing, False
    applicant = completion.participant.applicant
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=completion.participant_id)
        if participant.status != ParticipantStatus.ACTIVE:
            raise SurveyError(
                _("Your Prakerja participation was revoked, so you can no longer rate trainings."),
                code="revoked",
            )
        training = completion.voucher.training
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    owner=user,
                    completion=completion,
                    training=training,
                    provider_id=training.provider_id,
                    stars=stars,
                    review=review,
                    reviewer_first_name=(applicant.full_name or user.first_name or "").split(" ")[0][:60],
                    reviewer_regency_id=applicant.regency_id,
                    counts_for_incentive=completion.counts_for_incentive,
                )
        except IntegrityError:
            existing = Rating.objects.filter(completion=completion).first()
            if existing is None:
                raise
            return existing, False
        audit_log(
            actor=user,
            action="surveys.rating.submitted",
            obj=rating,
            data={
                "stars": stars,
                "training": training.pk,
                "counts_for_incentive": rating.counts_for_incentive,
            },
        )
        if rating.counts_for_incentive:
            _incentive_start(rating=rating, user=user, province_id=applicant.province_id)
        training_ratings_refresh(training_ids=[training.pk])
    return rating, True


def _incentive_start(*, rating: Rating, user, province_id: str | None) -> None:
    from surveys.services.surveys import assignments_create_for

    programme = programme_get()
    entitlements = entitlements_schedule(
        owner=user,
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=programme.training_incentive_amount,
        count=programme.training_incentive_count,
        interval_days=programme.training_incentive_interval_days,
        reference=f"rating:{rating.pk}",
        idempotency_key=f"training-incentive:{user.pk}",
        actor=user,
    )
    rating.incentive_started_on = entitlements[0].due_on if entitlements else timezone.localdate()
    Rating.objects.filter(pk=rating.pk).update(incentive_started_on=rating.incentive_started_on)
    assignments_create_for(owner_id=user.pk, anchor=rating.incentive_started_on, province_id=province_id)
    notify_user(
        user=user,
        template="surveys_incentive_started",
        context={
            "amount": programme.training_incentive_amount,
            "count": programme.training_incentive_count,
            "first_due_on": rating.incentive_started_on,
        },
        phone=rating.completion.participant.applicant.phone if rating.completion_id else None,
        idempotency_key=f"surveys.rating:{rating.pk}:incentive",
    )


def training_ratings_refresh(*, training_ids: list[int] | None = None) -> int:
    """Recompute the average and count of the given trainings (all rated ones: None) in one GROUP BY.

    Hidden reviews still count: hiding takes the words off the page, not the stars.
    """
    ratings = Rating.objects.all()
    if training_ids is not None:
        ratings = ratings.filter(training_id__in=training_ids)
    rows = ratings.values("training_id").annotate(average=Avg("stars"), count=Count("id")).order_by()
    aggregates = {row["training_id"]: (Decimal(str(row["average"])), row["count"]) for row in rows}
    if training_ids is not None:
        for training_id in training_ids:
            aggregates.setdefault(training_id, (Decimal(0), 0))
    return training_ratings_set_bulk(aggregates=aggregates)


def rating_hide(*, rating_id: int, reason: str, actor) -> bool:
    """Hide an abusive review from the training page (the stars still count). Audited; False if hidden."""
    reason = (reason or "").strip()
    if not reason:
        raise SurveyError(_("Give the reason for hiding the review."), code="reason_required")
    with transaction.atomic():
        changed = Rating.objects.filter(pk=rating_id, hidden_at__isnull=True).update(
            hidden_at=timezone.now(), hidden_reason=reason[:300], hidden_by=actor
        )
        if changed:
            audit_log(
                actor=actor,
                action="surveys.rating.review_hidden",
                obj=Rating.objects.get(pk=rating_id),
                data={"reason": reason[:300]},
            )
    return bool(changed)


def rating_unhide(*, rating_id: int, actor) -> bool:
    with transaction.atomic():
        changed = Rating.objects.filter(pk=rating_id, hidden_at__isnull=False).update(
            hidden_at=None, hidden_reason="", hidden_by=None
        )
        if changed:
            audit_log(actor=actor, action="surveys.rating.review_shown", obj=Rating.objects.get(pk=rating_id))
    return bool(changed)
