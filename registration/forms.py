"""Forms: they read and tidy what people type; the rules live in services."""

from __future__ import annotations

import dataclasses

from django import forms
from django.conf import settings
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django.utils.translation import gettext_lazy as _

from registration.enums import Education, EmploymentStatus, Gender
from registration.models import Province
from registration.nik import NIK_ERRORS, nik_check_against, nik_clean, nik_parse
from registration.phones import PhoneError, phone_parse
from registration.regions import region_choices
from registration.services import (
    PROFILE_ERRORS,
    ProfileInput,
    RegistrationError,
    clean_name,
    kk_problem,
    name_is_valid,
)

DECLARATIONS = [
    ("not_civil_servant", _("I am not a civil servant (ASN/PNS or PPPK).")),
    ("not_military_police", _("I am not a member of the TNI or Polri.")),
    ("not_village_official", _("I am not a village head or village official.")),
    ("not_legislator", _("I am not a member of the DPR, DPD or DPRD.")),
    (
        "not_state_company_board",
        _("I am not a director, commissioner or supervisory board member of a BUMN or BUMD."),
    ),
    ("not_student", _("I am not in formal education (school or university).")),
]


class NumericInput(forms.TextInput):
    """A text box that opens the number keypad on phones and keeps leading zeros."""

    def __init__(self, attrs=None):
        base = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        super().__init__({**base, **(attrs or {})})


class FixedChoices(BaseChoiceIterator):
    """Choices normalised once and shared by every form that shows them; never changed in place.

    A form's choice fields are deep-copied for every form made, and each ``choices`` set is
    normalised twice (field and widget), item by item: for the province, regency and district
    lists and the other choice fields of the profile form, about 1 ms of CPU per form. Django
    takes a choice iterator as it is and this one copies as itself, so that work is done once.
    """

    def __init__(self, choices):
        self._rows = tuple(normalize_choices(list(choices)))

    def __iter__(self):
        return iter(self._rows)

    def __len__(self):
        return len(self._rows)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


# Per level and parent: the regions list it was made from, and the choices.
_region_choice_sets: dict[tuple[str, str], tuple[list, FixedChoices]] = {}
_CHOOSE_PROVINCE_FIRST = FixedChoices([("", _("Choose a province first"))])
_CHOOSE_REGENCY_FIRST = FixedChoices([("", _("Choose a regency first"))])


def _region_choices(level: str, parent: str = "") -> FixedChoices:
    """The "Choose" line and the regions (``region_choices``), one shared set per level and parent.

    Made again whenever ``region_choices`` gives another list (its memo cleared, regions loaded).
    """
    rows = region_choices(level, parent)
    made = _region_choice_sets.get((level, parent))
    if made is not None and made[0] is rows:
        return made[1]
    choices = FixedChoices([("", _("Choose")), *rows])
    _region_choice_sets[(level, parent)] = (rows, choices)
    return choices


def apply_registration_errors(
    form: forms.Form, error: RegistrationError, *, field_map: dict | None = None
) -> None:
    """Show a service's rule failures on the form fields they belong to."""
    field_map = field_map or {}
    for field_name, items in error.errors.items():
        target = field_map.get(field_name, field_name)
        for _code, message in items:
            form.add_error(target if target in form.fields else None, message)


class ProfileForm(forms.Form):
    nik = forms.CharField(
        label=_("NIK (16 digits)"),
        max_length=24,
        widget=NumericInput(attrs={"maxlength": "24", "pattern": "[0-9 .-]*"}),
        help_text=_(
            "As printed on your KTP or family card. Check every digit: a typo is the most common reason a registration fails."
        ),
    )
    kk_number = forms.CharField(
        label=_("Family card number (KK, 16 digits)"),
        max_length=24,
        widget=NumericInput(attrs={"maxlength": "24", "pattern": "[0-9 .-]*"}),
        help_text=_("The number at the top of your Kartu Keluarga. It is not the same as your NIK."),
    )
    full_name = forms.CharField(
        label=_("Full name as on your KTP"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "characters"}),
    )
    birth_place = forms.CharField(label=_("Place of birth"), max_length=100)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
        error_messages={"invalid": _("Enter a date like 14-03-1995.")},
    )
    gender = forms.ChoiceField(
        label=_("Gender"), choices=FixedChoices(Gender.choices), widget=forms.RadioSelect
    )
    address = forms.CharField(
        label=_("Home address (street, number, RT/RW, village)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    province = forms.ChoiceField(label=_("Province where you live"))
    regency = forms.ChoiceField(label=_("Regency or city"))
    district = forms.ChoiceField(label=_("District (kecamatan)"))
    education = forms.ChoiceField(
        label=_("Last education completed"), choices=FixedChoices([("", _("Choose"))] + Education.choices)
    )
    employment_status = forms.ChoiceField(
        label=_("Employment status now"),
        choices=FixedChoices(EmploymentStatus.choices),
        widget=forms.RadioSelect,
    )

    identity_fields = ("nik", "kk_number", "full_name", "birth_date", "gender")

    def __init__(self, *args, locked: bool = False, declarations: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.locked = locked
        today = timezone.localdate()
        self.fields["birth_date"].widget.attrs.update(
            {"min": f"{today.year - 100}-01-01", "max": today.isoformat()}
        )
        province = self.data.get("province") if self.is_bound else self.initial.get("province")
        regency = self.data.get("regency") if self.is_bound else self.initial.get("regency")
        self.fields["province"].choices = _region_choices("province")
        self.fields["regency"].choices = (
            _region_choices("regency", province) if province else _CHOOSE_PROVINCE_FIRST
        )
        self.fields["district"].choices = (
            _region_choices("district", regency) if regency else _CHOOSE_REGENCY_FIRST
        )
        self.fields["regency"].widget.attrs.update(
            {
                "data-depends-on": "id_province",
                "data-options-url": reverse_lazy("registration:regencies") + "?parent=",
            }
        )
        self.fields["district"].widget.attrs.update(
            {
                "data-depends-on": "id_regency",
                "data-options-url": reverse_lazy("registration:districts") + "?parent=",
            }
        )
        self.declaration_names = []
        if declarations:
            for name, label in DECLARATIONS:
                self.fields[name] = forms.BooleanField(
                    label=label,
                    required=True,
                    error_messages={"required": _("Tick this box to confirm, or you cannot take part.")},
                )
                self.declaration_names.append(name)
            self.fields["consent"] = forms.BooleanField(
                label=_(
                    "I agree that my personal data is processed for the Prakerja programme as described in the privacy policy."
                ),
                required=True,
                error_messages={"required": _("Your consent is needed to process your registration.")},
            )
        if locked:
            for name in self.identity_fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = _(
                    "Verified by the civil registry: it can no longer be changed."
                )

    def declaration_fields(self):
        return [self[name] for name in self.declaration_names]

    def clean_full_name(self):
        # Like the NIK below: the rules on the field alone show with the other errors, in one round.
        name = " ".join(self.cleaned_data["full_name"].split())
        if not self.locked and not name_is_valid(clean_name(name)):
            raise forms.ValidationError(str(PROFILE_ERRORS["name_invalid"]))
        return name

    def clean_kk_number(self):
        kk = self.cleaned_data["kk_number"]
        if self.locked:
            return kk
        nik = nik_clean(self.data.get(self.add_prefix("nik")) or "")
        code = kk_problem(nik_clean(kk), nik=nik)
        if code:
            raise forms.ValidationError(str(PROFILE_ERRORS[code]))
        return kk

    def clean_nik(self):
        # The NIK rules that need nothing else, so they show together with the other
        # errors instead of after a second submit. The service checks them again.
        if self.locked:  # verified: shown, not changed, not judged again
            return self.cleaned_data["nik"]
        info = nik_parse(self.cleaned_data["nik"])
        if info.errors:
            raise forms.ValidationError([str(NIK_ERRORS[code]) for code in info.errors])
        self.nik_info = info
        return info.nik

    def clean(self):
        cleaned = super().clean()
        info = getattr(self, "nik_info", None)
        if info is not None and not self.locked:
            for code in nik_check_against(
                info, birth_date=cleaned.get("birth_date"), gender=cleaned.get("gender")
            ):
                self.add_error("gender" if code == "gender_mismatch" else "birth_date", str(NIK_ERRORS[code]))
        regency, district = cleaned.get("regency"), cleaned.get("district")
        province = cleaned.get("province")
        if district and regency and not district.startswith(regency + "."):
            self.add_error("district", _("Choose a district in the selected regency."))
        if regency and province and not regency.startswith(province + "."):
            self.add_error("regency", _("Choose a regency in the selected province."))
        return cleaned

    def profile_input(self) -> ProfileInput:
        data = self.cleaned_data
        return ProfileInput(
            nik=data["nik"],
            kk_number=data["kk_number"],
            full_name=data["full_name"],
            birth_place=data["birth_place"],
            birth_date=data["birth_date"],
            gender=data["gender"],
            address=data["address"],
            district_code=data["district"],
            education=data["education"],
            employment_status=data["employment_status"],
            declarations=bool(self.declaration_names),
            consent=bool(self.declaration_names),
        )


def profile_initial(applicant) -> dict:
    if applicant is None or not applicant.nik:
        return {}
    initial = {
        name: getattr(applicant, name)
        for name in (
            "nik",
            "kk_number",
            "full_name",
            "birth_place",
            "birth_date",
            "gender",
            "address",
            "education",
            "employment_status",
        )
    }
    initial.update(
        province=applicant.province_id or "",
        regency=applicant.regency_id or "",
        district=applicant.district_id or "",
    )
    if applicant.declarations_version == settings.REGISTRATION_CONSENT_VERSION:
        initial.update({name: True for name, _label in DECLARATIONS})
    if applicant.consent_version == settings.REGISTRATION_CONSENT_VERSION:
        initial["consent"] = True
    return initial


class PhoneField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "inputmode": "tel",
                    "autocomplete": "tel",
                    "placeholder": "0812 3456 7890",
                }
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return phone_parse(value)
        except PhoneError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class PhoneForm(forms.Form):
    phone = PhoneField(
        help_text=_("An Indonesian number that can receive SMS. We send a 6-digit code to it.")
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        widget=NumericInput(attrs={"autocomplete": "one-time-code", "maxlength": "6", "pattern": "[0-9]*"}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(_("The code has 6 digits."))
        return code


class ClaimForm(forms.Form):
    nik = forms.CharField(
        label=_("Your NIK (16 digits)"), max_length=24, widget=NumericInput(attrs={"maxlength": "24"})
    )
    phone = PhoneField(
        label=_("The mobile number you gave at the Disnaker office"),
        help_text=_("We send a code to this number to make sure it is you."),
    )


class OfflineRegistrationForm(ProfileForm):
    """Disnaker staff register a person; the province is the staff member's own."""

    phone = PhoneField(
        label=_("The person's mobile number"),
        help_text=_("Needed: the person takes over the registration online with this number."),
    )
    paper_consent = forms.BooleanField(
        label=_(
            "The person signed the paper declarations and the personal data consent form, and I checked their KTP."
        ),
        required=True,
        error_messages={
            "required": _(
                "Tick this box once the person has signed the paper forms and you have checked their KTP."
            )
        },
    )

    def __init__(self, *args, province: Province, **kwargs):
        super().__init__(*args, declarations=False, **kwargs)
        self.fields["province"].choices = [(province.code, province.name)]
        self.fields["province"].initial = province.code
        if not (self.data.get("regency") if self.is_bound else None):
            self.fields["regency"].choices = _region_choices("regency", province.code)
        # The officer fills this in about someone else: no "your" on a staff page.
        self.fields["nik"].label = _("The person's NIK (16 digits)")
        self.fields["nik"].help_text = _(
            "As printed on the person's KTP or family card. Check every digit: a typo is the most common "
            "reason a registration fails."
        )
        self.fields["kk_number"].help_text = _(
            "The number at the top of the person's Kartu Keluarga. It is not the same as the NIK."
        )
        self.fields["full_name"].label = _("Full name as on the KTP")
        self.fields["province"].label = _("Province where the person lives")
        self.fields["province"].help_text = _(
            "Where the person lives decides, not where the KTP was issued: you register anyone living in "
            "%(province)s, also with a KTP from another province (people move). Someone living in another "
            "province registers at that province's Disnaker office."
        ) % {"province": province.name}
        self.fields["employment_status"].label = _("Employment status")

    def profile_input(self) -> ProfileInput:
        data = super().profile_input()
        return dataclasses.replace(data, declarations=True, consent=True)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class OfflineImportForm(ImportUploadForm):
    paper_consent = forms.BooleanField(
        label=_(
            "Every person in this file signed the paper declarations and the personal data consent form, and I checked their KTP."
        ),
        required=True,
        error_messages={
            "required": _(
                "Tick this box once every person in the file has signed the paper forms and you have checked their KTP."
            )
        },
    )
