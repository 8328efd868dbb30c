"""The applicant dashboard: profile, mobile number and NIK-check steps, and panels."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from prakerja.dashboard import Panel, Step, StepStatus
from registration.enums import CivilRegistryStatus
from registration.phones import phone_masked
from registration.selectors import applicant_for_request

MISMATCH_FIELD_LABELS = {
    "kk_number": lambda: _("family card number (KK)"),
    "full_name": lambda: _("full name"),
    "birth_date": lambda: _("date of birth"),
}


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {_('and')} {words[-1]}"


def civil_step(applicant) -> Step:
    status = applicant.civil_status if applicant and applicant.nik else None
    title = _("NIK checked with the civil registry (Dukcapil)")
    if status is None or not applicant.profile_completed_at:
        return Step(key="nik_check", title=title, status=StepStatus.LOCKED, detail=_("After your profile."))
    if status == CivilRegistryStatus.VERIFIED:
        return Step(
            key="nik_check",
            title=title,
            status=StepStatus.DONE,
            detail=_("Your identity matches Dukcapil's records."),
        )
    if status in (CivilRegistryStatus.PENDING, CivilRegistryStatus.NOT_CHECKED):
        return Step(
            key="nik_check",
            title=title,
            status=StepStatus.WAITING,
            detail=_(
                "We are checking your NIK, family card number, name and date of birth. This usually takes a few minutes; this page updates by itself."
            ),
            polls=True,
        )
    if status == CivilRegistryStatus.UNAVAILABLE:
        return Step(
            key="nik_check",
            title=title,
            status=StepStatus.WAITING,
            detail=_(
                "The civil registry is busy right now. We try again automatically; you do not need to do anything."
            ),
            polls=True,
        )
    if status == CivilRegistryStatus.MISMATCH:
        fields = [
            str(MISMATCH_FIELD_LABELS[name]())
            for name in applicant.civil_mismatch_fields
            if name in MISMATCH_FIELD_LABELS
        ]
        detail = _(
            "Your %(fields)s does not match Dukcapil's records. Correct it exactly as on your KTP and family card. "
            "If Dukcapil's data is wrong, update it first at your local Dukcapil office."
        ) % {"fields": _join(fields) or _("data")}
        return Step(
            key="nik_check",
            title=title,
            status=StepStatus.FAILED,
            detail=detail,
            action_url=reverse("registration:profile"),
            action_label=_("Correct my data"),
        )
    return Step(
        key="nik_check",
        title=title,
        status=StepStatus.FAILED,
        detail=_(
            "Dukcapil does not know the NIK %(nik)s. Check every digit against your KTP. "
            "If the number is right, ask your local Dukcapil office to check your record."
        )
        % {"nik": applicant.masked_nik},
        action_url=reverse("registration:civil_retry"),
        action_label=_("Check my NIK"),
        action_post=True,
    )


def dashboard_steps(request) -> list[Step]:
    applicant = applicant_for_request(request)
    profile_done = bool(applicant and applicant.profile_completed_at and applicant.nik)
    steps = []
    if profile_done:
        steps.append(
            Step(
                key="profile",
                title=_("Profile completed"),
                status=StepStatus.DONE,
                detail=_("NIK %(nik)s, %(regency)s")
                % {"nik": applicant.masked_nik, "regency": applicant.regency},
                action_url=reverse("registration:profile_detail"),
                action_label=_("See my data"),
            )
        )
    else:
        steps.append(
            Step(
                key="profile",
                title=_("Complete your profile"),
                status=StepStatus.CURRENT,
                detail=_(
                    "Your NIK, family card number and address, as on your KTP. It takes about 5 minutes."
                ),
                action_url=reverse("registration:profile"),
                action_label=_("Fill in my profile"),
            )
        )
    if applicant and applicant.phone_verified_at:
        steps.append(
            Step(
                key="phone",
                title=_("Mobile number verified"),
                status=StepStatus.DONE,
                detail=phone_masked(applicant.phone),
            )
        )
    else:
        steps.append(
            Step(
                key="phone",
                title=_("Verify your mobile number"),
                status=StepStatus.CURRENT if profile_done else StepStatus.LOCKED,
                detail=_("We send a 6-digit code by SMS."),
                action_url=reverse("registration:phone"),
                action_label=_("Verify my number"),
            )
        )
    steps.append(civil_step(applicant))
    steps.append(screening_step(applicant))
    return steps


def screening_step(applicant) -> Step:
    """Always shown, so the timeline keeps its shape: locked until the NIK is verified."""
    title = _("Eligibility")
    if applicant and applicant.is_excluded:
        return Step(
            key="screening",
            title=title,
            status=StepStatus.FAILED,
            detail=_(
                "You cannot take part: %(reason)s (source: %(source)s). If this is wrong, contact the call "
                "centre with proof of your current status."
            )
            % {
                "reason": applicant.exclusion_reason,
                "source": (
                    f"{applicant.exclusion_list.source}, {applicant.exclusion_list.reference_date:%d-%m-%Y}"
                    if applicant.exclusion_list_id
                    else "-"
                ),
            },
        )
    if applicant and applicant.civil_status == CivilRegistryStatus.VERIFIED:
        return Step(
            key="screening",
            title=title,
            status=StepStatus.DONE,
            detail=_("You are not on any exclusion list (civil servants, TNI/Polri, officials, students)."),
        )
    return Step(
        key="screening",
        title=title,
        status=StepStatus.LOCKED,
        detail=_("After the NIK check: we check the programme's exclusion lists."),
    )


def dashboard_panels(request) -> list[Panel]:
    if request.user.is_staff:
        # Officers see no applicant panels; Disnaker staff get the way to their own pages.
        staff = getattr(request.user, "disnaker", None)
        panels = []
        if staff is not None and request.user.has_perm("registration.register_offline"):
            panels.append(
                Panel(template="registration/_panel_staff.html", context={"staff": staff}, order=10)
            )
        if request.user.has_perm("registration.review_offlinesubmission"):
            panels.append(Panel(template="registration/_panel_kemnaker.html", order=11))
        return panels
    applicant = applicant_for_request(request)
    panels = []
    if applicant is None or not applicant.nik:
        panels.append(Panel(template="registration/_panel_claim.html", order=20))
    elif applicant.is_priority:
        panels.append(
            Panel(
                template="registration/_panel_priority.html",
                context={"source": applicant.priority_source},
                order=20,
            )
        )
    return panels
