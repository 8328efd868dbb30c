from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.models import REVIEW_MAX_LENGTH

STAR_CHOICES = [(n, "★" * n) for n in range(5, 0, -1)]


class RatingForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=STAR_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose from 1 to 5 stars.")},
    )
    review = forms.CharField(
        label=_("Your review"),
        help_text=_("At least a few words: what was good, what could be better. Any language is fine."),
        max_length=REVIEW_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write a short review of the training.")},
    )


class HideReviewForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
