"""The wave and participant steps of the applicant dashboard."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorts import draw, services
from cohorts.enums import ParticipantStatus
from cohorts.selectors import application_public_status, latest_application, participant_for_user
from prakerja.dashboard import Panel, Step, StepStatus
from registration.selectors import applicant_for_request


def _wave_step(request, applicant, participant) -> Step:
    title = _("Join a wave")
    join_url = reverse("cohorts:join")
    if participant:
        return Step(
            "wave", title, StepStatus.DONE, _("Selected in %(wave)s") % {"wave": participant.wave.name}
        )
    application = latest_application(applicant) if applicant else None
    wave = services.wave_current()
    if application:
        public = application_public_status(application)
        if public == "waiting":
            return Step(
                "wave",
                title,
                StepStatus.WAITING,
                _("Waiting for the wave to close") + f" · {application.wave.name}",
            )
        if public == "in_selection":
            return Step("wave", title, StepStatus.WAITING, _("In selection") + f" · {application.wave.name}")
        retry = wave is not None and wave.pk != application.wave_id
        if public == "ineligible":
            detail = _("You were not included in the selection of %(wave)s: %(reason)s") % {
                "wave": application.wave.name,
                "reason": _reason_text(application.ineligible_reason),
            }
        else:
            detail = _("Not selected in %(wave)s. You can join the next wave.") % {
                "wave": application.wave.name
            }
        return Step(
            "wave",
            title,
            StepStatus.CURRENT if retry else StepStatus.FAILED,
            detail,
            action_url=join_url if retry else "",
            action_label=_("Join the next wave") if retry else "",
        )
    if applicant is None:
        return Step("wave", title, StepStatus.LOCKED, _("After your face verification."))
    check = services.wave_join_check(applicant=applicant, wave=wave)
    if check.eligible:
        return Step(
            "wave",
            title,
            StepStatus.CURRENT,
            _("%(wave)s is open until %(date)s.")
            % {"wave": wave.name, "date": timezone.localtime(wave.closes_at).strftime("%d-%m-%Y %H:%M")},
            action_url=join_url,
            action_label=_("Join this wave"),
        )
    codes = {reason.code for reason in check.reasons}
    if codes == {"no_open_wave"}:
        return Step(
            "wave", title, StepStatus.LOCKED, _("No wave is open right now. We will tell you when one opens.")
        )
    if "blacklisted" in codes or "participant" in codes:
        return Step("wave", title, StepStatus.FAILED, check.reasons[0].message)
    if codes <= {"kemnaker_pending", "no_open_wave"}:
        # Registered offline: only Kemnaker's approval is missing (or it returned the registration).
        reason = next(r for r in check.reasons if r.code == "kemnaker_pending")
        return Step("wave", title, StepStatus.WAITING, reason.message)
    return Step("wave", title, StepStatus.LOCKED, _("Complete the steps above first."))


def _reason_text(code: str) -> str:
    texts = {
        "excluded": _("you are on an exclusion list"),
        "kyc_not_verified": _("your identity was not verified"),
        "nik_not_verified": _("your NIK was not verified by the civil registry"),
        "participant": _("you are already a participant"),
        "blacklisted": _("you are barred from later waves"),
        "frozen": _("your registration was on hold while an officer checked a report about your NIK"),
        "kemnaker_pending": _("your offline registration was not yet approved by Kemnaker"),
    }
    return texts.get(code, code)


def dashboard_steps(request) -> list[Step]:
    applicant = applicant_for_request(request)
    participant = participant_for_user(request.user)
    steps = [_wave_step(request, applicant, participant)]
    card_title = _("Prakerja card and training balance")
    if participant is None:
        steps.append(
            Step(
                "card",
                card_title,
                StepStatus.LOCKED,
                _("After the selection: a card number and a Rp1.000.000 training balance."),
            )
        )
    elif participant.status == ParticipantStatus.REVOKED:
        steps.append(Step("card", card_title, StepStatus.FAILED, participant.revoke_reason))
    elif participant.status == ParticipantStatus.ENDED:
        steps.append(Step("card", card_title, StepStatus.DONE, _("The programme has ended.")))
    else:
        steps.append(
            Step(
                "card",
                card_title,
                StepStatus.DONE,
                _("Card %(number)s") % {"number": participant.formatted_card_number},
            )
        )
    return steps


def _draw_panel(request) -> Panel | None:
    """After a wave's announcement: the applicant's token in its public draw file, to find their line."""
    applicant = applicant_for_request(request)
    application = latest_application(applicant) if applicant else None
    if application is None or not draw.draw_is_public(application.wave):
        return None
    return Panel(
        template="cohorts/_draw_panel.html",
        context={
            "wave": application.wave,
            "token": draw.draw_token(wave=application.wave, applicant_id=applicant.pk),
        },
        order=90,
    )


def dashboard_panels(request) -> list[Panel]:
    panels = [panel] if (panel := _draw_panel(request)) else []
    participant = participant_for_user(request.user)
    if participant is None:
        return panels
    days_left = None
    if participant.status == ParticipantStatus.ACTIVE and participant.first_purchase_at is None:
        days_left = max((participant.purchase_deadline - timezone.now()).days, 0)
    return [
        Panel(
            template="cohorts/_participant_panel.html",
            context={"participant": participant, "days_left": days_left},
            order=10,
        ),
        *panels,
    ]
