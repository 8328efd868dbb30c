"""The participant's side: the job profile with its sharing consent, and "Lowongan" (openings)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cohorts.selectors import participant_for_user
from employment import services
from employment.exceptions import EmploymentError
from employment.forms import JobProfileForm
from employment.models import JobPlatform, JobProfile
from employment.selectors import active_consents, openings_for


def _profile_of(participant) -> JobProfile | None:
    return JobProfile.objects.filter(participant=participant).first() if participant else None


@login_required
@never_cache
def openings(request: HttpRequest) -> HttpResponse:
    """ "Lowongan": the openings job platforms sent for this person, newest first."""
    participant = participant_for_user(request.user)
    profile = _profile_of(participant)
    context = {
        "eligible": services.job_profile_eligible(participant=participant),
        "profile": profile,
        "openings": list(openings_for(profile)[:50]) if profile else [],
        "sharing": list(active_consents(profile)) if profile else [],
    }
    return render(request, "employment/openings.html", context)


@login_required
@never_cache
def job_profile(request: HttpRequest) -> HttpResponse:
    """The job profile: the summary, the platforms to share it with and the consent (UU PDP)."""
    participant = participant_for_user(request.user)
    if not services.job_profile_eligible(participant=participant):
        messages.info(request, _("A job profile can be shared after you complete a training."))
        return redirect("employment:openings")
    profile = _profile_of(participant)
    platforms = list(JobPlatform.objects.filter(active=True).order_by("name"))
    shared = {str(c.platform_id) for c in active_consents(profile)} if profile else set()
    form = JobProfileForm(
        request.POST or None,
        platforms=platforms,
        initial={"summary": profile.summary if profile else "", "platforms": sorted(shared)},
    )
    if request.method == "POST" and form.is_valid():
        chosen = {int(pk) for pk in form.cleaned_data["platforms"]}
        try:
            profile = services.job_profile_save(participant=participant, summary=form.cleaned_data["summary"])
            result = services.job_sharing_set(
                profile=profile,
                platform_ids=chosen,
                consent_given=form.cleaned_data["consent"],
                actor=request.user,
            )
        except EmploymentError as exc:
            form.add_error("consent" if exc.code == "consent_missing" else "summary", str(exc.message))
        else:
            if result["withdrawn"]:
                messages.success(
                    request, _("Sharing stopped: those platforms can no longer read your job profile.")
                )
            messages.success(request, _("Your job profile is saved."))
            return redirect("employment:openings")
    return render(
        request,
        "employment/job_profile.html",
        {
            "form": form,
            "participant": participant,
            "profile": profile,
            "consent_version": settings.EMPLOYMENT_CONSENT_VERSION,
            "has_platforms": bool(platforms),
        },
    )


@login_required
@require_POST
def sharing_stop(request: HttpRequest) -> HttpResponse:
    """Withdraw every sharing consent at once (one button on the "Lowongan" page)."""
    profile = _profile_of(participant_for_user(request.user))
    if profile is not None:
        services.job_sharing_set(profile=profile, platform_ids=set(), consent_given=False, actor=request.user)
    messages.success(request, _("Sharing stopped: no job platform can read your job profile any more."))
    return redirect("employment:openings")
