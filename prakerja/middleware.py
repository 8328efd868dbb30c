from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

STAFF_PREFIXES = ("/admin/", "/staf/")
HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    """Answer ``/healthz`` before host validation and the HTTPS redirect.

    Load balancers and container health checks call it by IP address over plain
    HTTP. The answer says only whether the database and the broker respond.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            from prakerja.views import healthz

            return healthz(request)
        return self.get_response(request)


class UserLanguageMiddleware:
    """Use a signed-in person's saved language unless they picked one in this browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.language
            and user.language != request.LANGUAGE_CODE
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


def user_has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffMFAMiddleware:
    """With MFA_REQUIRED_FOR_STAFF, officers must set up TOTP before admin or staff pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.MFA_REQUIRED_FOR_STAFF and request.path.startswith(STAFF_PREFIXES):
            user = request.user
            if user.is_authenticated and user.is_staff and not user_has_totp(user):
                messages.warning(
                    request,
                    _(
                        "Officer accounts must use two-factor authentication. Set up an authenticator app first."
                    ),
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)


class PortalLocaleMiddleware(LocaleMiddleware):
    """Bahasa Indonesia unless the person chose otherwise.

    Django's LocaleMiddleware follows the browser's Accept-Language, which on
    many Indonesian phones says English. The portal speaks Indonesian by
    default; the language switch (a cookie) or the account's saved language
    (UserLanguageMiddleware) changes it.
    """

    def process_request(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in dict(settings.LANGUAGES):
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()
