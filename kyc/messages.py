"""What the applicant reads when a photo is refused: what went wrong and what to do."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from kyc.enums import ImageKind, Reason, RejectReason


def _megabytes() -> str:
    return f"{settings.KYC_MAX_UPLOAD_BYTES / (1024 * 1024):g}"


def _megapixels() -> str:
    return f"{settings.KYC_MAX_IMAGE_PIXELS / 1_000_000:g}"


def reason_message(reason: str, image: str = "") -> str:
    """One actionable sentence or two, in the active language, for an engine reason code."""
    ktp = image == ImageKind.KTP
    if reason == Reason.NO_FACE_SELFIE:
        return _(
            "We could not find a face in your selfie. Face the camera with your whole face in the picture, "
            "without a mask, hat or glasses."
        )
    if reason == Reason.MANY_FACES_SELFIE:
        return _("Your selfie shows more than one face. Take it alone, with nobody else in the picture.")
    if reason == Reason.NO_FACE_KTP:
        return _(
            "We could not find the photo on your KTP. Photograph the whole card, lying flat, so that the "
            "photo and the text are sharp and readable."
        )
    if reason == Reason.BLURRED:
        if ktp:
            return _(
                "The KTP photo is too blurred. Hold the phone still above the card, tap the screen to focus "
                "and take it again."
            )
        return _(
            "Your selfie is too blurred. Hold the phone still, tap the screen to focus and take it again."
        )
    if reason == Reason.TOO_DARK:
        if ktp:
            return _(
                "The KTP photo is too dark. Photograph the card in a bright place, without shadows on it."
            )
        return _(
            "Your selfie is too dark. Take it in a bright place, facing the light (for example a window)."
        )
    if reason == Reason.TOO_SMALL:
        if ktp:
            return _(
                "The KTP photo is too small. Use your camera's normal setting (at least %(pixels)s pixels "
                "on the short side) and fill the picture with the card."
            ) % {"pixels": settings.KYC_MIN_IMAGE_SIDE}
        return _(
            "Your selfie is too small or your face is too far away. Use your camera's normal setting and hold "
            "the phone closer, so your face fills most of the picture."
        )
    if reason == Reason.MISMATCH:
        return _(
            "The face in your selfie does not match the photo on your KTP. Upload your own KTP, photographed "
            "sharp and without glare, and a selfie of yourself in good light, without glasses."
        )
    if reason == Reason.NOT_AN_IMAGE:
        if ktp:
            return _("The KTP file is not a photo or is damaged. Upload a JPG, PNG or WEBP photo.")
        return _("The selfie file is not a photo or is damaged. Upload a JPG, PNG or WEBP photo.")
    if reason == Reason.TOO_LARGE:
        if ktp:
            return _(
                "The KTP file is too large. The limit is %(mb)s MB and %(mp)s megapixels: send the photo "
                "straight from your camera."
            ) % {"mb": _megabytes(), "mp": _megapixels()}
        return _(
            "The selfie file is too large. The limit is %(mb)s MB and %(mp)s megapixels: send the photo "
            "straight from your camera."
        ) % {"mb": _megabytes(), "mp": _megapixels()}
    return _("The photos could not be checked. Please try again.")


def reject_message(reject_reason: str) -> str:
    if reject_reason == RejectReason.DIFFERENT_PERSON:
        return _("An officer compared your photos: the selfie and the KTP show different people.")
    if reject_reason == RejectReason.DOCUMENT:
        return _("An officer checked your KTP photo: it is not a genuine, readable KTP.")
    if reject_reason == RejectReason.DUPLICATE:
        return _("An officer found that you are already registered in the programme with another NIK.")
    return _("An officer could not confirm your identity.")


def size_limit_text() -> str:
    return _("JPG, PNG or WEBP, at most %(mb)s MB.") % {"mb": _megabytes()}
