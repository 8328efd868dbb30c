"""Template tags other apps' pages use to show what the surveys app holds (reviews on the training page)."""

from django import template

from surveys.selectors import reviews_recent

register = template.Library()


@register.simple_tag
def training_reviews(training, limit: int = 5):
    """The newest visible reviews of ``training`` (one query)."""
    return reviews_recent(training_id=training.pk, limit=limit)
