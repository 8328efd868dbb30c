"""Trainings: draft -> in review -> approved / rejected, and ratings from the surveys app."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.catalog_cache import catalog_version_bump
from marketplace.enums import ProviderStatus, TrainingMode, TrainingStatus
from marketplace.exceptions import TransitionNotAllowed
from marketplace.models import Training
from marketplace.rules import coordinates_problem, price_problem
from prakerja.audit import audit_log


def training_problems(training: Training) -> list[str]:
    """What stops a training from going to review or being approved (empty: nothing)."""
    problems = []
    problem = price_problem(training.price)
    if problem:
        problems.append(problem)
    if training.mode == TrainingMode.OFFLINE:
        if not training.address or not training.district_id:
            problems.append(_("An in-person training needs the venue address and district."))
        problem = coordinates_problem(training.latitude, training.longitude)
        if problem:
            problems.append(problem)
    if (
        training.mode == TrainingMode.WEBINAR
        and not training.sessions.filter(starts_at__gt=timezone.now()).exists()
    ):
        problems.append(_("A webinar needs at least one session in the future."))
    return problems


def _locked(training_id: int, expected: tuple[str, ...]) -> Training:
    training = Training.objects.select_for_update().select_related("provider").get(pk=training_id)
    if training.status not in expected:
        raise TransitionNotAllowed(
            _("This training is now %(status)s; reload the page to see it.")
            % {"status": training.get_status_display().lower()}
        )
    return training


def _move(*, training: Training, target: str, actor, reason: str, action: str, **fields) -> Training:
    source = training.status
    now = timezone.now()
    training.status = target
    training.status_reason = reason
    for name, value in fields.items():
        setattr(training, name, value)
    update_fields = ["status", "status_reason", "updated_at", *fields]
    if target in (TrainingStatus.APPROVED, TrainingStatus.REJECTED):
        training.decided_at = now
        training.decided_by = actor
        update_fields += ["decided_at", "decided_by"]
    training.save(update_fields=update_fields)
    catalog_version_bump()
    audit_log(
        actor=actor,
        action=f"marketplace.training.{action}",
        obj=training,
        data={"from": source, "to": target, "reason": reason, "price": training.price},
    )
    return training


def training_submit(*, training_id: int, actor) -> Training:
    """Draft -> in review, once the training is complete."""
    with transaction.atomic():
        training = _locked(training_id, (TrainingStatus.DRAFT,))
        problems = training_problems(training)
        if problems:
            raise ValidationError(problems)
        return _move(
            training=training,
            target=TrainingStatus.IN_REVIEW,
            actor=actor,
            reason="",
            action="submitted",
            submitted_at=timezone.now(),
        )


def training_approve(*, training_id: int, actor, reason: str = "") -> Training:
    """In review -> approved. Listed in the catalog while the provider stays verified."""
    with transaction.atomic():
        training = _locked(training_id, (TrainingStatus.IN_REVIEW,))
        problems = training_problems(training)
        if training.provider.status != ProviderStatus.VERIFIED:
            problems.append(_("The provider is not verified."))
        if problems:
            raise ValidationError(problems)
        return _move(
            training=training,
            target=TrainingStatus.APPROVED,
            actor=actor,
            reason=(reason or "").strip(),
            action="approved",
        )


def training_reject(*, training_id: int, actor, reason: str) -> Training:
    """In review -> rejected, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Write the reason; the provider will read it."))
    with transaction.atomic():
        training = _locked(training_id, (TrainingStatus.IN_REVIEW,))
        return _move(
            training=training, target=TrainingStatus.REJECTED, actor=actor, reason=reason, action="rejected"
        )


def training_reopen(*, training_id: int, actor, reason: str = "") -> Training:
    """Rejected or approved -> draft, to be corrected. An approved one leaves the catalog."""
    with transaction.atomic():
        training = _locked(training_id, (TrainingStatus.REJECTED, TrainingStatus.APPROVED))
        return _move(
            training=training,
            target=TrainingStatus.DRAFT,
            actor=actor,
            reason=(reason or "").strip(),
            action="reopened",
        )


def training_rating_set(*, training_id: int, average: Decimal, count: int) -> None:
    """Store a training's rating aggregate. Called by the surveys app; idempotent."""
    if count < 0 or not (Decimal(0) <= Decimal(average) <= Decimal(5)):
        raise ValueError("rating average must be within 0..5 and count non-negative")
    value = Decimal(average).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if count else Decimal(0)
    with transaction.atomic():
        Training.objects.filter(pk=training_id).update(rating_average=value, rating_count=count)
        catalog_version_bump()


def training_ratings_set_bulk(*, aggregates: dict[int, tuple[Decimal, int]], batch_size: int = 1000) -> int:
    """Store many trainings' rating aggregates ``{training_id: (average, count)}`` at once.

    The surveys app computes them from its ratings in one GROUP BY and calls this; one UPDATE per batch
    (``bulk_update``), never one query per training. Returns the number of trainings written.
    """
    rows = []
    for training_id, (average, count) in aggregates.items():
        if count < 0 or not (Decimal(0) <= Decimal(average) <= Decimal(5)):
            raise ValueError("rating average must be within 0..5 and count non-negative")
        value = Decimal(average).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if count else Decimal(0)
        rows.append(Training(pk=training_id, rating_average=value, rating_count=count))
    with transaction.atomic():
        Training.objects.bulk_update(rows, ["rating_average", "rating_count"], batch_size=batch_size)
        catalog_version_bump()
    return len(rows)


TRAINING_CONTENT_FIELDS = (
    "provider_id",
    "title",
    "description",
    "category",
    "level",
    "mode",
    "duration_hours",
    "price",
    "address",
    "district_id",
    "latitude",
    "longitude",
)


def training_draft_save(*, training_id: int | None, actor, **fields) -> tuple[Training, bool]:
    """Create a draft training, or change a draft or rejected one (locked); validated and audited.

    What was reviewed stays as reviewed: a training in review or approved is refused
    (TransitionNotAllowed); "return to draft" first. Returns (training, changed).
    """
    unknown = set(fields) - set(TRAINING_CONTENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown training fields: {sorted(unknown)}")
    with transaction.atomic():
        if training_id is None:
            training = Training(**fields)
            before = {}
        else:
            training = Training.objects.select_for_update().get(pk=training_id)
            if training.status not in (TrainingStatus.DRAFT, TrainingStatus.REJECTED):
                raise TransitionNotAllowed(
                    _("Training %(id)s is %(status)s and cannot be changed by an import.")
                    % {"id": training.pk, "status": training.get_status_display().lower()}
                )
            before = {name: getattr(training, name) for name in fields}
            for name, value in fields.items():
                setattr(training, name, value)
        training.full_clean(exclude=["status"])
        changes = {
            name: [str(before.get(name)) if before else None, str(getattr(training, name))]
            for name in fields
            if training_id is None or before[name] != getattr(training, name)
        }
        if training_id is not None and not changes:
            return training, False
        training.save()
        audit_log(
            actor=actor,
            action="marketplace.training.created" if training_id is None else "marketplace.training.changed",
            obj=training,
            data={"changes": changes} if training_id is not None else {"price": training.price},
        )
    return training, True
