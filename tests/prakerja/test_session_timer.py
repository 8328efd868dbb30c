"""Officers are warned before their idle session ends and can stay signed in; a page whose
session has ended says so and keeps its forms from posting into nothing."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from prakerja.roles import Role
from prakerja.security import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db


def officer(role=Role.PROGRAMME_OFFICER):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _age(client, *, seen: int) -> None:
    session = client.session
    now = int(time.time())
    session[SESSION_STARTED_KEY] = now - seen
    session[SESSION_SEEN_KEY] = now - seen
    session.save()


def test_officer_pages_carry_the_timer_and_applicant_pages_do_not(client, settings):
    settings.OFFICER_SESSION_IDLE_SECONDS = 900
    from tests.registration.factories import disnaker_user

    client.force_login(disnaker_user())
    page = client.get("/staf/").content.decode()
    assert 'id="session-timer"' in page
    assert 'data-idle-seconds="900"' in page
    assert "prakerja/js/session-timer.js" in page
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    assert 'id="session-timer"' not in client.get(reverse("dashboard")).content.decode()


def test_stay_signed_in_moves_the_idle_clock(client, settings):
    settings.OFFICER_SESSION_IDLE_SECONDS = 1800
    client.force_login(officer())
    _age(client, seen=1700)
    response = client.post(reverse("session_keepalive"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {"idle_seconds": 1800}
    assert int(time.time()) - client.session[SESSION_SEEN_KEY] < 5
    # Without JavaScript the same button goes back to the page, and only to this site.
    response = client.post(reverse("session_keepalive"), {"next": "/staf/"})
    assert response["Location"] == "/staf/"
    response = client.post(reverse("session_keepalive"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard")


def test_stay_signed_in_cannot_revive_an_ended_session(client, settings):
    settings.OFFICER_SESSION_IDLE_SECONDS = 1800
    client.force_login(officer())
    _age(client, seen=1801)
    response = client.post(reverse("session_keepalive"), HTTP_ACCEPT="application/json")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    anonymous = Client().post(reverse("session_keepalive"), HTTP_ACCEPT="application/json")
    assert anonymous.status_code == 401


def test_keepalive_is_post_only(client):
    client.force_login(officer())
    assert client.get(reverse("session_keepalive")).status_code == 405


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.mark.browser
def test_chromium_warns_lets_the_officer_stay_then_blocks_a_dead_page(page, live_server, settings):
    from tests.registration.factories import disnaker_user

    user = disnaker_user()
    page.context.add_cookies([{"name": "sessionid", "value": _session_cookie(user), "url": live_server.url}])
    # The warning shows in the last 120 seconds: with a 124-second limit it shows at once.
    settings.OFFICER_SESSION_IDLE_SECONDS = 124
    page.goto("/staf/daftar/")
    timer = page.locator("#session-timer")
    timer.wait_for(state="visible")
    assert "Sesi Anda akan segera berakhir" in timer.inner_text()
    page.get_by_role("button", name="Tetap masuk").click()
    timer.wait_for(state="hidden")
    # A page whose session has run out says so and keeps its forms from posting (a fresh
    # session, so that the server still serves the page under the short limit).
    settings.OFFICER_SESSION_IDLE_SECONDS = 8
    page.context.add_cookies([{"name": "sessionid", "value": _session_cookie(user), "url": live_server.url}])
    page.goto("/staf/daftar/")
    timer.wait_for(state="visible")
    page.locator(".session-timer-ended").wait_for(state="visible")
    assert "BELUM tersimpan" in timer.inner_text()
    assert page.get_by_role("link", name="Masuk kembali (tab baru)").is_visible()
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_timeout(1000)
    assert posts == []
