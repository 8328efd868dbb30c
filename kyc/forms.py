from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kyc.engine import ALLOWED_FORMATS
from kyc.enums import ImageKind, Reason
from kyc.messages import reason_message, size_limit_text
from kyc.services import PhotoRejected, draft_load, draft_save, kyc_photo_prepare

ACCEPT = ",".join(ALLOWED_FORMATS.values())


class PhotoSizeLimitHandler(FileUploadHandler):
    """Stops reading a photo as soon as it passes the byte limit, and remembers which field it was."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.oversized: set[str] = set()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.oversized.add(self.field_name)
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


class KycUploadForm(forms.Form):
    """The KTP photo and the selfie. Each is checked at once (file, size, light, sharpness);
    a good photo is kept as a draft when the other one is refused, so it is not sent twice."""

    ktp = forms.FileField(
        label=_("Photo of your KTP"),
        error_messages={"required": _("Take or choose a photo of your KTP.")},
        widget=forms.FileInput(attrs={"accept": ACCEPT, "capture": "environment", "data-photo-input": "ktp"}),
    )
    selfie = forms.FileField(
        label=_("Selfie"),
        error_messages={"required": _("Take or choose a selfie.")},
        widget=forms.FileInput(attrs={"accept": ACCEPT, "capture": "user", "data-photo-input": "selfie"}),
    )
    consent = forms.BooleanField(
        label=_("I agree that my photos are used to verify my identity"),
        error_messages={"required": _("Tick the box to agree, otherwise we cannot check your photos.")},
    )

    def __init__(self, *args, applicant, oversized=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.applicant = applicant
        self.oversized = set(oversized)
        self.photos: dict[str, bytes] = {}
        self.drafts = {
            kind: draft_load(applicant_id=applicant.id, image=kind)
            for kind in (ImageKind.KTP, ImageKind.SELFIE)
        }
        limit = size_limit_text()
        self.fields["consent"].help_text = _(
            "The selfie and the KTP photo are used only to confirm your identity for the Prakerja programme "
            "and are deleted %(days)d days after the decision."
        ) % {"days": settings.KYC_PHOTO_RETENTION_DAYS}
        self.fields["ktp"].help_text = " ".join(
            [str(_("Lay the card flat and photograph all of it, sharp and readable.")), limit]
        )
        self.fields["selfie"].help_text = " ".join(
            [str(_("Your whole face, looking at the camera, alone in the picture.")), limit]
        )
        for kind, draft in self.drafts.items():
            if kind in self.oversized:
                self.fields[kind].required = False
            if draft:
                self._mark_received(kind)

    def _mark_received(self, kind: str) -> None:
        field = self.fields[kind]
        field.required = False
        if not getattr(field, "received", False):
            field.received = True
            field.help_text = format_html(
                '<span class="kyc-draft">{}</span> {}',
                _("✓ Already received. Choose again only to replace it."),
                field.help_text,
            )
            # A bound field copies its help text when first used (during validation).
            self[kind].help_text = field.help_text

    def _refused(self, kind: str, message: str, code: str) -> forms.ValidationError:
        """The new photo's problem; with an earlier photo kept, also which one will be used."""
        if self.drafts.get(kind):
            message = " ".join(
                [
                    str(message),
                    str(
                        _(
                            "Your earlier photo is still kept: it is used if you send without choosing a new one."
                        )
                    ),
                ]
            )
        return forms.ValidationError(message, code=code)

    def _clean_photo(self, kind: str):
        if kind in self.oversized:
            raise self._refused(kind, reason_message(Reason.TOO_LARGE, kind), Reason.TOO_LARGE)
        upload = self.cleaned_data.get(kind)
        if not upload:
            if self.drafts.get(kind):
                self.photos[kind] = self.drafts[kind]
            return None
        if upload.size > settings.KYC_MAX_UPLOAD_BYTES:
            raise self._refused(kind, reason_message(Reason.TOO_LARGE, kind), Reason.TOO_LARGE)
        try:
            self.photos[kind] = kyc_photo_prepare(data=upload.read(), image=kind)
        except PhotoRejected as exc:
            raise self._refused(kind, str(exc), exc.reason) from exc
        return None

    def clean_ktp(self):
        return self._clean_photo(ImageKind.KTP)

    def clean_selfie(self):
        return self._clean_photo(ImageKind.SELFIE)

    def save_drafts(self) -> None:
        """Keep every photo that passed, new or old, for the next try."""
        for kind, jpeg in self.photos.items():
            if jpeg is not self.drafts.get(kind):
                draft_save(applicant_id=self.applicant.id, image=kind, jpeg=jpeg)
                self.drafts[kind] = jpeg
            self._mark_received(kind)
