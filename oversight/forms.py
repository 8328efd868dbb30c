from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from oversight.enums import ComplaintCategory
from registration.nik import nik_clean, nik_error_message, nik_parse
from registration.phones import PhoneError, phone_parse

PERSON_CATEGORIES = [
    (value, label) for value, label in ComplaintCategory.choices if value != ComplaintCategory.NIK_MISUSE
]


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("What is it about?"), choices=PERSON_CATEGORIES)
    subject_ref = forms.ChoiceField(
        label=_("Which of your items"), required=False, choices=[("", _("None in particular"))]
    )
    title = forms.CharField(label=_("Subject"), max_length=150, min_length=5)
    description = forms.CharField(
        label=_("What happened?"),
        min_length=20,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Write what you did, what you expected and what happened. Never write your password or SMS codes."
        ),
    )
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_("A screenshot or photo (JPEG, PNG) or a PDF, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    def __init__(self, *args, subjects: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_ref"].choices = [("", _("None in particular")), *subjects]
        self.subject_labels = dict(subjects)

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload and upload.size > settings.COMPLAINT_ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(_("The attachment is too large (at most 5 MB)."))
        return upload


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), min_length=2, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


class NikReportForm(forms.Form):
    nik = forms.CharField(label=_("Your NIK (16 digits, from your KTP)"), max_length=32)
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=20,
        help_text=_("We send a code to this number to confirm the report and tell you the result."),
    )
    description = forms.CharField(
        label=_("What did you notice?"),
        min_length=10,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: you received an SMS from Prakerja although you never registered."),
    )

    def clean_nik(self):
        info = nik_parse(self.cleaned_data["nik"])
        # The age rules are for joining the programme; someone of any age may report misuse of their NIK.
        errors = [code for code in info.errors if code not in ("too_young", "too_old")]
        if errors:
            raise forms.ValidationError(nik_error_message(errors[0]))
        return nik_clean(self.cleaned_data["nik"])

    def clean_phone(self):
        try:
            return phone_parse(self.cleaned_data["phone"])
        except PhoneError as exc:
            raise forms.ValidationError(exc.message) from exc


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code from the SMS"), max_length=12)


class StaffComplaintForm(ComplaintForm):
    nik = forms.CharField(label=_("NIK of the person you registered"), max_length=32)

    field_order = ["nik", "category", "title", "description", "attachment"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["subject_ref"]
        self.fields["description"].help_text = _("Write what the person told you, in their words.")

    def clean_nik(self):
        return nik_clean(self.cleaned_data["nik"])


class OfficerActionForm(forms.Form):
    ACTIONS = [
        ("reply", _("Reply")),
        ("wait", _("Reply and wait for the person")),
        ("resolve", _("Resolve")),
        ("assign_me", _("Assign to me")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    body = forms.CharField(
        label=_("Message to the person"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    lift_hold = forms.BooleanField(
        label=_("Lift the hold on the applicant (the report was checked and the registration is genuine)"),
        required=False,
    )
