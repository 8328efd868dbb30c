"""Officer sign-in: the console through allauth, this session's second factor, session lifetimes,
re-authentication before changing where money or secrets go."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.models import Group
from django.urls import reverse

from marketplace.models import PlatformCredential
from prakerja.roles import Role
from prakerja.security import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from tests.factories import UserFactory, reauthenticate
from tests.kyc.factories import KycSubmissionFactory
from tests.marketplace.factories import PlatformFactory

pytestmark = pytest.mark.django_db

PASSWORD = "rahasia-panjang-2026"


def officer(role=Role.KYC_REVIEWER):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def with_totp(user) -> str:
    """Give ``user`` a TOTP device; returns its secret."""
    secret = "JBSWY3DPEHPK3PXP"
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


# --- The console's login is allauth's --------------------------------------------------------


def test_admin_login_redirects_to_allauth_with_next(client):
    response = client.get("/admin/login/?next=/admin/kyc/kyccase/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fkyc%2Fkyccase%2F"
    # The admin's own "please log in" redirect lands there too.
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"


def test_admin_login_form_post_signs_nobody_in(client):
    user = officer()
    response = client.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_admin_login_off_site_next_is_ignored(client):
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_signed_in_applicant_gets_403_at_admin_login_not_a_loop(client):
    client.force_login(UserFactory())
    assert client.get("/admin/login/").status_code == 403


def test_fifteen_wrong_passwords_at_the_console_login_are_rate_limited(client):
    user = officer()
    blocked = "Terlalu banyak percobaan masuk yang gagal. Coba lagi nanti."
    bodies = []
    for _ in range(15):
        login_page = client.post("/admin/login/", {"username": user.email, "password": "salah"})
        response = client.post(login_page["Location"], {"login": user.email, "password": "salah-sekali"})
        bodies.append(response.content.decode())
    assert [blocked in body for body in bodies] == [False] * 5 + [True] * 10
    # The right password is refused too while the limit holds.
    response = client.post("/accounts/login/?next=/admin/", {"login": user.email, "password": PASSWORD})
    assert blocked in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_logout_is_allauths(client):
    client.force_login(officer())
    response = client.post("/admin/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "_auth_user_id" not in client.session


# --- This session's second factor -----------------------------------------------------------


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED_FOR_STAFF = True


def photo_url():
    submission = KycSubmissionFactory()
    return reverse("kyc:photo", args=[submission.pk, "selfie"])


def test_forged_session_with_totp_set_up_is_stopped_before_admin_and_photos(client, mfa_required):
    user = officer()
    with_totp(user)
    client.force_login(user)  # a session that never passed the TOTP step
    url = photo_url()
    for path in ("/admin/", url):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/2fa/reauthenticate/?next={path.replace('/', '%2F')}"
    page = client.get(response["Location"]).content.decode()
    assert "Masukkan kode dari aplikasi autentikator Anda untuk melanjutkan." in page
    assert 'name="code"' in page


def test_password_only_login_does_not_reach_the_console(client, mfa_required):
    user = officer()
    with_totp(user)
    response = client.post("/accounts/login/?next=/admin/", {"login": user.email, "password": PASSWORD})
    # allauth asks for the code next; the officer is not signed in yet.
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_officer_who_passed_totp_reaches_admin_and_photos(client, mfa_required):
    user = officer()
    secret = with_totp(user)
    url = photo_url()
    response = client.post(f"/accounts/login/?next={url}", {"login": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.get("/admin/").status_code == 200
    photo = client.get(url)
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/jpeg"


def test_forged_session_passes_after_the_totp_step(client, mfa_required):
    user = officer()
    secret = with_totp(user)
    client.force_login(user)
    response = client.post("/accounts/2fa/reauthenticate/?next=/admin/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_officer_without_totp_is_sent_to_set_it_up(client, mfa_required):
    client.force_login(officer())
    response = client.get("/admin/")
    assert response["Location"] == reverse("mfa_activate_totp")


# --- Session lifetimes ------------------------------------------------------------------------


def _age(client, *, started: int, seen: int) -> None:
    session = client.session
    now = int(time.time())
    session[SESSION_STARTED_KEY] = now - started
    session[SESSION_SEEN_KEY] = now - seen
    session.save()


def test_officer_idle_for_31_minutes_is_signed_out_with_a_message(client):
    client.force_login(officer())
    _age(client, started=40 * 60, seen=31 * 60)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "Sesi Anda telah berakhir. Silakan masuk kembali." in page


def test_officer_active_for_29_minutes_idle_stays(client):
    client.force_login(officer())
    _age(client, started=5 * 3600, seen=29 * 60)
    assert client.get("/admin/").status_code == 200
    # The visit moved the idle clock.
    assert int(time.time()) - client.session[SESSION_SEEN_KEY] < 60


def test_officer_session_ends_after_12_hours_even_when_active(client):
    client.force_login(officer())
    _age(client, started=12 * 3600 + 1, seen=10)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_applicant_keeps_a_longer_session(client):
    client.force_login(UserFactory())
    _age(client, started=3 * 86400, seen=2 * 86400)
    assert client.get(reverse("dashboard")).status_code == 200
    _age(client, started=31 * 86400, seen=60)
    assert client.get(reverse("dashboard")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_officer_session_cookie_expires_after_the_idle_limit(client):
    client.force_login(officer())
    assert client.session.get_expiry_age() == 30 * 60
    applicant = UserFactory()
    client.force_login(applicant)
    assert client.session.get_expiry_age() == 7 * 86400


# --- Re-authentication before changing where money or secrets go ----------------------------


def test_platform_screens_ask_for_the_password_again(client):
    platform = PlatformFactory()
    user = officer(Role.PROGRAMME_OFFICER)
    client.force_login(user)
    change = reverse("admin:marketplace_platform_change", args=[platform.pk])
    response = client.get(change)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/reauthenticate/?next={change.replace('/', '%2F')}"
    response = client.post(
        reverse("admin:marketplace_platform_changelist"),
        {"action": "issue_credentials", "_selected_action": [platform.pk]},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not PlatformCredential.objects.exists()
    reauthenticate(client, PASSWORD)
    assert client.get(change).status_code == 200


def test_wrong_password_does_not_reauthenticate(client):
    platform = PlatformFactory()
    client.force_login(officer(Role.PROGRAMME_OFFICER))
    response = client.post(reverse("account_reauthenticate"), {"password": "salah"})
    assert response.status_code == 200
    change = reverse("admin:marketplace_platform_change", args=[platform.pk])
    assert client.get(change).status_code == 302


def test_an_action_posted_without_a_recent_confirmation_runs_after_it(client):
    """allauth holds the POST while the officer confirms the password, then submits it."""
    platform = PlatformFactory()
    client.force_login(officer(Role.PROGRAMME_OFFICER))
    changelist = reverse("admin:marketplace_platform_changelist")
    response = client.post(changelist, {"action": "issue_credentials", "_selected_action": [platform.pk]})
    assert response["Location"] == f"/accounts/reauthenticate/?next={changelist.replace('/', '%2F')}"
    assert not PlatformCredential.objects.exists()
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 200
    assert PlatformCredential.objects.filter(platform=platform).count() == 1
    assert "no-store" in response["Cache-Control"]


def test_expired_sessions_are_deleted_by_the_hourly_job(client):
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from prakerja.tasks import sessions_clear_task

    client.force_login(officer())
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    client2_user = UserFactory()
    from django.test import Client

    other = Client()
    other.force_login(client2_user)
    sessions_clear_task.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == [other.session.session_key]
