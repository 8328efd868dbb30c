"""The KYC step of the applicant dashboard."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kyc.enums import CaseStatus
from kyc.messages import reason_message, reject_message
from kyc.selectors import kyc_case_for
from prakerja.dashboard import Step, StepStatus
from registration.selectors import applicant_for_request


def dashboard_steps(request) -> list[Step]:
    if request.user.is_staff:
        return []
    applicant = applicant_for_request(request)
    title = _("Face verification (KYC)")
    upload_url = reverse("kyc:upload")
    # The step is always there (locked until the profile is saved), so the timeline keeps its numbering.
    if applicant is None or applicant.profile_completed_at is None:
        return [
            Step(
                key="kyc",
                title=title,
                status=StepStatus.LOCKED,
                detail=_("After your profile: a photo of your KTP and a selfie."),
            )
        ]
    case = kyc_case_for(applicant)
    status = case.status if case else CaseStatus.NOT_STARTED
    if status == CaseStatus.NOT_STARTED:
        return [
            Step(
                key="kyc",
                title=title,
                status=StepStatus.CURRENT,
                detail=_("Upload a photo of your KTP and a selfie so we can confirm it is really you."),
                action_url=upload_url,
                action_label=_("Upload photos"),
            )
        ]
    if status == CaseStatus.PROCESSING:
        return [
            Step(
                key="kyc",
                title=title,
                status=StepStatus.WAITING,
                detail=_(
                    "Being verified. This usually takes less than a minute; this page updates by itself."
                ),
                polls=True,
            )
        ]
    if status == CaseStatus.RETRY:
        latest = case.latest_submission
        if latest and latest.reason:
            problem = reason_message(latest.reason, latest.failed_image)
        else:
            problem = _("An officer looked at your photos and asks you to take new ones.")
        left = ngettext(
            "You have %(count)d attempt left.", "You have %(count)d attempts left.", case.attempts_left
        ) % {"count": case.attempts_left}
        return [
            Step(
                key="kyc",
                title=title,
                status=StepStatus.FAILED,
                detail=f"{problem} {left}",
                action_url=upload_url,
                action_label=_("Upload new photos"),
            )
        ]
    if status == CaseStatus.REVIEW:
        return [
            Step(
                key="kyc",
                title=title,
                status=StepStatus.WAITING,
                detail=_(
                    "An officer is checking your photos by hand, usually within 2 working days. "
                    "We will email you the result."
                ),
            )
        ]
    if status == CaseStatus.VERIFIED:
        return [Step(key="kyc", title=title, status=StepStatus.DONE, detail=_("Your face matches your KTP."))]
    return [
        Step(
            key="kyc",
            title=title,
            status=StepStatus.FAILED,
            detail=" ".join(
                [reject_message(case.reject_reason), _("Contact the call centre if you think this is wrong.")]
            ),
        )
    ]
