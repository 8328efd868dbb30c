from __future__ import annotations

from cohorts.enums import ApplicationStatus, WaveStatus
from cohorts.models import Application, Participant


def participant_for_user(user) -> Participant | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Participant.objects.filter(applicant__user=user)
        .select_related("wave", "balance_account", "applicant")
        .first()
    )


def latest_application(applicant) -> Application | None:
    return (
        Application.objects.filter(applicant=applicant)
        .select_related("wave")
        .order_by("-wave__number")
        .first()
    )


def application_public_status(application: Application) -> str:
    """What the applicant sees, in the programme's own words:

    ``waiting`` (menunggu gelombang ditutup) while the wave is open, ``in_selection``
    (dalam proses seleksi) until the wave is announced, then ``selected`` (berhasil),
    ``not_selected`` (tidak lolos) or ``ineligible``.
    """
    wave = application.wave
    if wave.status == WaveStatus.OPEN:
        return "waiting"
    if wave.status != WaveStatus.ANNOUNCED:
        return "in_selection"
    if application.status == ApplicationStatus.SELECTED:
        return "selected"
    if application.status == ApplicationStatus.INELIGIBLE:
        return "ineligible"
    return "not_selected"
