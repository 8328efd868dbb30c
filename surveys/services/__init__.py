"""Every write of the surveys app: ratings (``ratings``) and evaluation surveys (``surveys``)."""

from surveys.services.ratings import (
    REVIEW_MIN_WORDS,
    rating_hide,
    rating_submit,
    rating_unhide,
    training_ratings_refresh,
)
from surveys.services.surveys import (
    answer_save,
    answers_of,
    assignment_submit,
    assignment_version,
    assignments_backfill,
    assignments_create_for,
    question_delete,
    question_save,
    surveys_notify_due,
    version_current,
    version_draft,
    version_publish,
)

__all__ = [
    "REVIEW_MIN_WORDS",
    "answer_save",
    "answers_of",
    "assignment_submit",
    "assignment_version",
    "assignments_backfill",
    "assignments_create_for",
    "question_delete",
    "question_save",
    "rating_hide",
    "rating_submit",
    "rating_unhide",
    "surveys_notify_due",
    "training_ratings_refresh",
    "version_current",
    "version_draft",
    "version_publish",
]
