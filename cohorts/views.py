from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cohorts import draw, services
from cohorts.enums import WaveStatus
from cohorts.models import Application, Wave
from cohorts.selectors import latest_application, participant_for_user
from registration.selectors import applicant_for_user


@login_required
@require_http_methods(["GET", "POST"])
def wave_join(request):
    """ "Gabung Gelombang": the open wave, whether the applicant may join, and the button."""
    applicant = applicant_for_user(request.user)
    if applicant is None:
        messages.info(request, _("Complete your profile first."))
        return redirect("dashboard")
    wave = services.wave_current()
    if request.method == "POST":
        try:
            services.application_create(applicant=applicant, wave=wave)
        except services.CohortError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("You have joined %(wave)s. We will announce the result after it closes.") % {"wave": wave},
            )
            return redirect("dashboard")
    check = services.wave_join_check(applicant=applicant, wave=wave)
    return render(
        request,
        "cohorts/join.html",
        {
            "wave": wave,
            "check": check,
            "application": latest_application(applicant),
            "participant": participant_for_user(request.user),
        },
    )


# --- The public draw (no login) ---------------------------------------------


def _public_wave(number: int) -> Wave:
    wave = Wave.objects.filter(number=number).exclude(status=WaveStatus.DRAFT).first()
    if wave is None:
        raise Http404(_("No such wave."))
    return wave


@require_GET
def draw_index(request):
    """Every wave that has opened, with the state of its public draw."""
    return render(request, "cohorts/draw_index.html", {"waves": draw.waves_public()})


@require_GET
def draw_detail(request, number: int):
    """A wave's commitment, and after the announcement its seed, draw file and how to check it."""
    wave = _public_wave(number)
    token = None
    applicant = applicant_for_user(request.user) if request.user.is_authenticated else None
    if (
        applicant is not None
        and wave.draw_version >= 2
        and Application.objects.filter(wave=wave, applicant=applicant).exists()
    ):
        token = draw.draw_token(wave=wave, applicant_id=applicant.pk)
    public = draw.draw_is_public(wave)
    return render(
        request,
        "cohorts/draw_detail.html",
        {
            "wave": wave,
            "public": public,
            "file_ready": public and default_storage.exists(draw.draw_file_name(wave)),
            "token": token,
            "quotas": wave.province_quotas.select_related("province").order_by("province_id"),
        },
    )


@require_GET
def draw_file(request, number: int):
    wave = _public_wave(number)
    name = draw.draw_file_name(wave)
    if not draw.draw_is_public(wave) or not default_storage.exists(name):
        raise Http404(_("The draw file of this wave is not available yet."))
    response = FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=f"gelombang-{wave.number}-undian.csv.gz",
        content_type="application/gzip",
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def draw_script(request):
    """The standalone verification script, as published in the repository."""
    path = Path(draw.__file__).with_name("verify_draw.py")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename="verify_draw.py", content_type="text/x-python"
    )
