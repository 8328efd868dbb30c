from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaseStatus(models.TextChoices):
    """Where an applicant's identity check stands. ``verified`` is read by the waves app."""

    NOT_STARTED = "not_started", pgettext_lazy("kyc status", "Not started")
    PROCESSING = "processing", pgettext_lazy("kyc status", "Being verified")
    RETRY = "retry", pgettext_lazy("kyc status", "New photos needed")
    REVIEW = "review", pgettext_lazy("kyc status", "Manual review")
    VERIFIED = "verified", pgettext_lazy("kyc status", "Verified")
    REJECTED = "rejected", pgettext_lazy("kyc status", "Rejected")


class SubmissionStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("kyc submission", "Queued")
    PROCESSING = "processing", pgettext_lazy("kyc submission", "Processing")
    DONE = "done", pgettext_lazy("kyc submission", "Done")


class Verdict(models.TextChoices):
    VERIFIED = "verified", pgettext_lazy("kyc verdict", "Verified")
    REVIEW = "review", pgettext_lazy("kyc verdict", "Manual review")
    REJECTED = "rejected", pgettext_lazy("kyc verdict", "Rejected")


class Reason(models.TextChoices):
    """Stable failure codes of the face engine (also printed by ``manage.py kyc_match``)."""

    NO_FACE_SELFIE = "no_face_selfie", _("No face found in the selfie")
    MANY_FACES_SELFIE = "many_faces_selfie", _("More than one face in the selfie")
    NO_FACE_KTP = "no_face_ktp", _("No face found on the KTP photo")
    BLURRED = "blurred", _("Photo too blurred")
    TOO_DARK = "too_dark", _("Photo too dark")
    TOO_SMALL = "too_small", _("Photo or face too small")
    MISMATCH = "mismatch", _("The faces do not match")
    NOT_AN_IMAGE = "not_an_image", _("Not a photo, or the file is damaged")
    TOO_LARGE = "too_large", _("File too large")


class ImageKind(models.TextChoices):
    SELFIE = "selfie", _("Selfie")
    KTP = "ktp", _("KTP photo")


class ReviewReason(models.TextChoices):
    """Why a case waits for a KYC Reviewer."""

    BORDERLINE = "borderline", _("Borderline face distance")
    DUPLICATE = "duplicate", _("Face matches another verified applicant")
    ATTEMPTS_EXHAUSTED = "attempts_exhausted", _("All automatic attempts used")
    ENGINE_ERROR = "engine_error", _("The face check failed repeatedly")


class Decision(models.TextChoices):
    """What a KYC Reviewer can decide."""

    APPROVE = "approve", _("Approve: the applicant is the person on the KTP")
    REJECT = "reject", _("Reject: not the person on the KTP, or fraud")
    RETRY = "retry", _("Ask for new photos (one more attempt)")


class RejectReason(models.TextChoices):
    """Why a reviewer rejected a case; the applicant sees the matching explanation."""

    DIFFERENT_PERSON = "different_person", _("The selfie and the KTP show different people")
    DOCUMENT = "document", _("The KTP photo is not a genuine, readable KTP")
    DUPLICATE = "duplicate", _("The same person is already registered with another NIK")
    OTHER = "other", _("Other (explained in the note)")
