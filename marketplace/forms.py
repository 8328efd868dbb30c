from __future__ import annotations

import uuid

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.documents import document_check, safe_display_name
from marketplace.enums import REQUIRED_DOCUMENTS, DocumentKind, TrainingCategory, TrainingLevel, TrainingMode
from marketplace.models import Platform, Provider, TrainingSession, nib_validator
from marketplace.selectors import CatalogQuery, Sort
from marketplace.services.providers import STASH_FOLDER, STASH_MAX_AGE_SECONDS
from registration.models import District, Province

SORT_CHOICES = [
    (Sort.DEFAULT, pgettext_lazy("catalog sort", "Best match")),
    (Sort.NEUTRAL, pgettext_lazy("catalog sort", "Neutral order")),
    (Sort.PRICE_ASC, pgettext_lazy("catalog sort", "Lowest price")),
    (Sort.PRICE_DESC, pgettext_lazy("catalog sort", "Highest price")),
    (Sort.RATING, pgettext_lazy("catalog sort", "Highest rating")),
    (Sort.NEWEST, pgettext_lazy("catalog sort", "Newest")),
    (Sort.DISTANCE, pgettext_lazy("catalog sort", "Nearest (in person)")),
]


class CatalogForm(forms.Form):
    """The catalog's search, filters and sort (GET). Bad values are dropped, never fatal."""

    q = forms.CharField(label=_("Search trainings"), required=False, max_length=100)
    category = forms.ChoiceField(label=_("Category"), required=False)
    level = forms.ChoiceField(label=_("Level"), required=False)
    mode = forms.ChoiceField(label=_("How it is taught"), required=False)
    platform = forms.ChoiceField(label=_("Platform"), required=False)
    price_min = forms.IntegerField(label=_("Lowest price (Rp)"), required=False, min_value=0)
    price_max = forms.IntegerField(label=_("Highest price (Rp)"), required=False, min_value=0)
    province = forms.ChoiceField(label=_("Province (in-person trainings)"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def __init__(self, *args, platforms=None, provinces=None, **kwargs):
        super().__init__(*args, **kwargs)
        any_choice = [("", _("All"))]
        self.fields["category"].choices = any_choice + list(TrainingCategory.choices)
        self.fields["level"].choices = any_choice + list(TrainingLevel.choices)
        self.fields["mode"].choices = any_choice + list(TrainingMode.choices)
        self.fields["platform"].choices = any_choice + [(p.slug, p.name) for p in platforms or []]
        self.fields["province"].choices = any_choice + [(p.code, p.name) for p in provinces or []]
        for name in ("price_min", "price_max"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "step": "1000"})
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. digital marketing, menjahit, Excel")}
        )

    def catalog_query(self) -> CatalogQuery:
        """The query from the valid fields; invalid ones are ignored (their errors are shown)."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        price_min, price_max = data.get("price_min"), data.get("price_max")
        if price_min is not None and price_max is not None and price_min > price_max:
            price_min, price_max = price_max, price_min
        return CatalogQuery(
            text=data.get("q") or "",
            category=data.get("category") or "",
            level=data.get("level") or "",
            mode=data.get("mode") or "",
            platform=data.get("platform") or "",
            price_min=price_min,
            price_max=price_max,
            province=data.get("province") or "",
            sort=data.get("sort") or "",
            latitude=data.get("lat"),
            longitude=data.get("lng"),
        )


# --- Provider application -----------------------------------------------------

STASH_SALT = "marketplace.provider-document-stash"
STASH_MAX_AGE = STASH_MAX_AGE_SECONDS

DOCUMENT_HELP = {
    DocumentKind.CURRICULUM: _("The learning outcomes and modules of your trainings."),
    DocumentKind.SYLLABUS: _("The topics session by session, with hours."),
    DocumentKind.TRAINER_QUALIFICATIONS: _("Trainers' CVs and certificates (BNSP or equivalent)."),
    DocumentKind.EVALUATION_METHOD: _("How you test what participants learned (quiz, project, exam)."),
    DocumentKind.BUSINESS_LICENCE: _("The NIB certificate printed from OSS, if you have it at hand."),
}


def district_choices(province_code: str | None) -> list[tuple[str, str]]:
    if not province_code or not Province.objects.filter(code=province_code).exists():
        return [("", _("Choose the province first"))]
    districts = (
        District.objects.filter(regency__province_id=province_code)
        .select_related("regency")
        .order_by("regency__name", "name")
    )
    return [("", _("Choose a district"))] + [(d.code, f"{d.name}, {d.regency.name}") for d in districts]


class StashedFile:
    """An upload kept from an earlier, invalid submission of the form."""

    def __init__(self, *, path: str, name: str):
        self.path = path
        self.name = name

    def open(self):
        return default_storage.open(self.path, "rb")


def stash_token(*, path: str, name: str) -> str:
    return signing.dumps({"path": path, "name": name}, salt=STASH_SALT)


def stash_load(token: str) -> StashedFile | None:
    try:
        data = signing.loads(token, salt=STASH_SALT, max_age=STASH_MAX_AGE)
    except signing.BadSignature:
        return None
    if not str(data.get("path", "")).startswith(f"{STASH_FOLDER}/") or not default_storage.exists(
        data["path"]
    ):
        return None
    return StashedFile(path=data["path"], name=data["name"])


class ProviderApplicationForm(forms.Form):
    """The public application of a training provider."""

    legal_name = forms.CharField(label=_("Legal name of the institution"), max_length=200)
    brand_name = forms.CharField(label=_("Brand name"), max_length=200, required=False)
    nib = forms.CharField(
        label=_("NIB"),
        max_length=13,
        min_length=13,
        validators=[nib_validator],
        help_text=_("Nomor Induk Berusaha from OSS: 13 digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("About the institution"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    address = forms.CharField(label=_("Address"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    province = forms.ModelChoiceField(
        label=_("Province"), queryset=Province.objects.all(), empty_label=_("Choose a province")
    )
    district = forms.ChoiceField(
        label=_("District (kecamatan)"),
        help_text=_("Choose the province first; the list then shows its districts."),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact email"))
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    affiliated_platforms = forms.ModelMultipleChoiceField(
        label=_("Is your institution affiliated with any of these platforms?"),
        help_text=_(
            "Affiliated means owned by the same group, sharing owners or directors, or being the platform's own academy. "
            "Participants are told about it next to your trainings."
        ),
        queryset=Platform.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    affiliation_details = forms.CharField(
        label=_("Describe the affiliation"),
        max_length=200,
        required=False,
        help_text=_("Required if you ticked a platform above."),
    )
    doc_curriculum = forms.FileField(label=_("Curriculum"), required=False)
    doc_syllabus = forms.FileField(label=_("Syllabus"), required=False)
    doc_trainers = forms.FileField(label=_("Trainer qualifications"), required=False)
    doc_evaluation = forms.FileField(label=_("Evaluation method"), required=False)
    doc_licence = forms.FileField(label=_("Business licence (NIB from OSS)"), required=False)
    truthful = forms.BooleanField(
        label=_(
            "I declare that this information and these documents are true and that I may act for the institution."
        ),
        error_messages={
            "required": _("Tick this box to make the declaration, or we cannot review the application.")
        },
    )

    DOCUMENT_FIELDS = {
        "doc_curriculum": DocumentKind.CURRICULUM,
        "doc_syllabus": DocumentKind.SYLLABUS,
        "doc_trainers": DocumentKind.TRAINER_QUALIFICATIONS,
        "doc_evaluation": DocumentKind.EVALUATION_METHOD,
        "doc_licence": DocumentKind.BUSINESS_LICENCE,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Files received with an earlier, invalid submission (signed tokens).
        self.stashed: dict[str, StashedFile] = {}
        for field_name, kind in self.DOCUMENT_FIELDS.items():
            field = self.fields[field_name]
            field.help_text = DOCUMENT_HELP[kind]
            field.widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
            token = self.data.get(f"{field_name}_stash", "") if self.is_bound else ""
            stashed = stash_load(token) if token else None
            if stashed:
                self.stashed[field_name] = stashed
            field.required = kind in REQUIRED_DOCUMENTS and not stashed
            field.error_messages["required"] = _("Upload this document (PDF, JPG or PNG).")
            field.error_messages["empty"] = _("This file is empty. Choose the file again.")
        province_code = self.data.get("province") if self.is_bound else self.initial.get("province")
        self.fields["district"].choices = district_choices(province_code)
        self.fields["district"].widget.attrs.update(
            {
                "data-depends-on": "id_province",
                "data-options-url": reverse("marketplace:districts") + "?province=",
            }
        )

    def clean_nib(self):
        nib = self.cleaned_data["nib"].strip()
        if Provider.objects.filter(nib=nib).exclude(status="rejected").exists():
            raise ValidationError(
                _(
                    "An institution with this NIB is already registered or being reviewed. Contact us if this is wrong."
                )
            )
        return nib

    def clean_district(self):
        district = (
            District.objects.select_related("regency").filter(code=self.cleaned_data["district"]).first()
        )
        province = self.cleaned_data.get("province")
        if district is None:
            raise ValidationError(_("Choose the district from the list."))
        if province is not None and district.regency.province_id != province.code:
            raise ValidationError(_("This district is not in the province you chose."))
        return district

    def clean(self):
        cleaned = super().clean()
        for field_name in self.DOCUMENT_FIELDS:
            upload = cleaned.get(field_name)
            if upload:
                try:
                    document_check(upload)
                except ValidationError as exc:
                    self.add_error(field_name, exc)
                    cleaned[field_name] = None
                    continue
                self.stashed.pop(field_name, None)
        if cleaned.get("affiliated_platforms") and not (cleaned.get("affiliation_details") or "").strip():
            self.add_error(
                "affiliation_details", _("Describe how your institution is affiliated with the platform.")
            )
        return cleaned

    def stash_valid_uploads(self) -> None:
        """Keep the good files of an invalid submission so nobody has to pick them again."""
        for field_name in self.DOCUMENT_FIELDS:
            upload = self.files.get(field_name)
            if not upload or field_name in self.errors:
                continue
            try:
                document_check(upload)
            except ValidationError:
                continue
            path = default_storage.save(f"{STASH_FOLDER}/{uuid.uuid4().hex}", upload)
            self.stashed[field_name] = StashedFile(path=path, name=safe_display_name(upload.name))

    def stash_tokens(self) -> dict[str, str]:
        return {name: stash_token(path=item.path, name=item.name) for name, item in self.stashed.items()}


# --- Buying -----------------------------------------------------------------------


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{date_format(timezone.localtime(obj.starts_at), 'l, j F Y, H:i')} WIB"


class BuyForm(forms.Form):
    """Confirm the offer and (for a webinar) choose the session; the SMS code is sent on submit."""

    session = SessionChoiceField(
        label=_("Choose the webinar session"),
        queryset=None,
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("This session is no longer available. Choose another one.")},
    )

    def __init__(self, *args, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        sessions = list(sessions or [])
        if sessions:
            field = self.fields["session"]
            field.queryset = TrainingSession.objects.filter(pk__in=[s.pk for s in sessions]).order_by(
                "starts_at"
            )
            field.required = True
            field.error_messages["required"] = _("Choose the webinar session you want to join.")
            if not self.is_bound:
                self.initial.setdefault("session", sessions[0].pk)
        else:
            del self.fields["session"]


class CancelVoucherForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, cancel this voucher and return the price to my training balance."),
        error_messages={"required": _("Tick the box to confirm that you want to cancel.")},
    )
