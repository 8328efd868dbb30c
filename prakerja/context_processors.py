from django.conf import settings


def portal(request):
    return {
        "PROGRAMME_NAME": settings.PROGRAMME_NAME,
        "PROGRAMME_CALL_CENTRE": settings.PROGRAMME_CALL_CENTRE,
        "PROGRAMME_CONTACT_EMAIL": settings.PROGRAMME_CONTACT_EMAIL,
    }
