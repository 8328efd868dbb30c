"""Officer sign-in: the console's login through allauth, the second factor of this session,
session lifetimes, and re-authentication before sensitive console changes.

- ``/admin/login/`` and ``/admin/logout/`` are allauth's login and logout (``admin_login``,
  ``prakerja/urls.py``), so allauth's rate limits and its TOTP step apply to the console too.
- ``session_passed_mfa``: allauth records every authentication method used in a session;
  ``StaffMFAMiddleware`` lets an officer into staff pages only when this session holds an
  "mfa" record, not merely because a TOTP device exists.
- ``SessionTimeoutMiddleware`` (``prakerja.middleware``) ends sessions after the idle and
  absolute limits in ``session_limits`` (officers: 30 minutes / 12 hours, OWASP ASVS 4.0.3
  V3.3; applicants: 7 / 30 days).
- ``RecentAuthRequiredMixin`` (``prakerja.admin``) and allauth's
  ``allauth.account.decorators.reauthentication_required`` for views ask for the password (or
  an authenticator code) again before changing where money or secrets go.
"""

from __future__ import annotations

import time

from allauth.account.authentication import get_authentication_records
from allauth.account.utils import get_next_redirect_url
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_STARTED_KEY = "prakerja_session_started"
SESSION_SEEN_KEY = "prakerja_session_seen"
# The "last seen" stamp is written at most this often, not on every request.
SEEN_RESOLUTION_SECONDS = 60


def admin_login(request: HttpRequest) -> HttpResponse:
    """``/admin/login/``: the console has no login form of its own; allauth's login is the only one."""
    next_url = get_next_redirect_url(request, REDIRECT_FIELD_NAME) or reverse("admin:index")
    if request.user.is_authenticated:
        if not (request.user.is_staff and request.user.is_active):
            raise PermissionDenied
        return HttpResponseRedirect(next_url)
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")


def session_passed_mfa(request: HttpRequest) -> bool:
    """Did this session pass a second factor (TOTP or a recovery code) for the signed-in user?"""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


def session_limits(user) -> tuple[int, int]:
    """(idle, absolute) session lifetime in seconds for ``user``."""
    if user.is_staff:
        return settings.OFFICER_SESSION_IDLE_SECONDS, settings.OFFICER_SESSION_MAX_SECONDS
    return settings.APPLICANT_SESSION_IDLE_SECONDS, settings.APPLICANT_SESSION_MAX_SECONDS


def session_clock_start(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: a new sign-in starts both clocks."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[SESSION_STARTED_KEY] = now
    request.session[SESSION_SEEN_KEY] = now
    request.session.set_expiry(session_limits(user)[0])


def session_expired(request: HttpRequest) -> bool:
    """Check and advance the session clocks of a signed-in request; True when the session is over."""
    session = request.session
    now = int(time.time())
    idle, absolute = session_limits(request.user)
    started = session.get(SESSION_STARTED_KEY)
    seen = session.get(SESSION_SEEN_KEY)
    if not isinstance(started, int) or not isinstance(seen, int):
        # A session from before these limits (or made without a login): the clocks start now.
        session[SESSION_STARTED_KEY] = session[SESSION_SEEN_KEY] = now
        session.set_expiry(idle)
        return False
    if now - seen > idle or now - started > absolute:
        return True
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SESSION_SEEN_KEY] = now
        session.set_expiry(idle)
    return False


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's minimum parameters (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane.

    Django's defaults (100 MiB, 8 lanes) cost ten times the CPU per sign-up and login on this hardware
    (bench/README.md "Surge"). Same algorithm name: hashes made with other parameters still verify, and
    Django re-hashes them with these at the person's next login (``must_update``).
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
