from django import forms
from django.utils.translation import gettext_lazy as _


class MovementReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        help_text=_("Kept with the reversing movement and in the audit log, e.g. the ticket number."),
        max_length=500,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
