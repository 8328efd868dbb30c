from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from prakerja import dashboard as dashboard_hooks
from prakerja import security

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "prakerja/home.html")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "prakerja/privacy.html")


def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "prakerja/help.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with an outdated security token (``CSRF_FAILURE_VIEW``): the page was open
    through a sign-in or sign-out in another tab, or for very long. Says so in the portal's own
    page, tells the person that nothing was sent and how to keep what they typed, and offers the
    same page afresh. The technical reason is not shown."""
    logger.info("csrf failure on %s: %s", request.path, reason)
    again = (
        request.path
        if request.method == "POST"
        and url_has_allowed_host_and_scheme(request.path, allowed_hosts={request.get_host()})
        else ""
    )
    return render(request, "403_csrf.html", {"again_url": again}, status=403)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, plus remembering the choice on the account."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return response


@login_required
@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    steps, panels = dashboard_hooks.collect(request)
    officer = request.user.is_staff
    if officer:
        # Officers (and Disnaker staff) cannot take part in the programme: the applicant
        # timeline would only ask them to fill in a profile. Panels still show.
        steps = []
    context = {
        "officer": officer,
        "steps": steps,
        "panels": panels,
        "next_step": dashboard_hooks.next_step(steps),
        "fingerprint": dashboard_hooks.fingerprint(steps),
        "polls": any(step.polls for step in steps),
        "done_count": sum(1 for step in steps if step.status == dashboard_hooks.StepStatus.DONE),
    }
    if request.GET.get("fragment") == "timeline":
        return render(request, "prakerja/_dashboard_body.html", context)
    return render(request, "prakerja/dashboard.html", context)


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: database down: %s", exc.__class__.__name__)
        return "down"
    return "ok"


def _broker_status() -> str:
    if not settings.REDIS_URL:
        return "embedded"
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except redis.RedisError as exc:
        logger.warning("healthz: broker down: %s", exc.__class__.__name__)
        return "down"
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(value != "down" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)


@never_cache
@require_POST
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """An officer's "Stay signed in" (templates/prakerja/session_timer.html).

    The request itself is the activity: ``SessionTimeoutMiddleware`` has already moved the idle
    clock, or has already signed an idle session out and sent this request to the login page.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": "signed_out"}, status=401)
    idle, _absolute = security.session_limits(request.user)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"idle_seconds": idle})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "dashboard"
    return redirect(target)
