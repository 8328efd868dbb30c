from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from employment.services import SUMMARY_MAX


class JobProfileForm(forms.Form):
    summary = forms.CharField(
        label=_("About you (for employers)"),
        required=False,
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What work you are looking for and what you can do. At most 600 characters."),
    )
    platforms = forms.MultipleChoiceField(
        label=_("Share my job profile with"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent = forms.BooleanField(
        label=_("I agree to share my job profile with the job platforms I ticked, as described above."),
        required=False,
    )

    def __init__(self, *args, platforms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platforms"].choices = [
            (str(p.pk), f"{p.name} — {p.description}" if p.description else p.name) for p in platforms
        ]
