from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    return {
        # Officers' pages warn before the idle limit (templates/prakerja/session_timer.html).
        "session_idle_seconds": settings.OFFICER_SESSION_IDLE_SECONDS
        if user is not None and user.is_staff
        else 0,
        "PROGRAMME_NAME": settings.PROGRAMME_NAME,
        "PROGRAMME_CALL_CENTRE": settings.PROGRAMME_CALL_CENTRE,
        "PROGRAMME_CONTACT_EMAIL": settings.PROGRAMME_CONTACT_EMAIL,
    }
