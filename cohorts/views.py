from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cohorts import services
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
