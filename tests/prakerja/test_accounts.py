import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from prakerja.models import Notification

pytestmark = pytest.mark.django_db

PASSWORD = "kopi-tubruk-2026-pagi"


def _signup(client, django_capture_on_commit_callbacks, email="siti@example.id", password=PASSWORD):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("account_signup"),
            {"email": email, "password1": password, "password2": password},
        )


def test_signup_verify_email_then_login(client, django_capture_on_commit_callbacks):
    response = _signup(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")

    user = get_user_model().objects.get(email="siti@example.id")
    assert user.password.startswith("md5$")  # tests use the fast hasher; production uses argon2
    assert EmailAddress.objects.get(user=user).verified is False

    # The verification email went through the outbox and was sent.
    notification = Notification.objects.get(recipient="siti@example.id")
    assert notification.status == "sent"
    assert notification.body == ""  # the one-time link is erased after sending
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+/)", mail.outbox[0].body).group(1)

    # Mandatory verification: logging in before confirming is refused.
    client.logout()
    response = client.post(reverse("account_login"), {"login": "siti@example.id", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")

    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True

    client.logout()
    response = client.post(reverse("account_login"), {"login": "siti@example.id", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert "siti@example.id" in response.content.decode()


def test_signup_language_is_remembered_for_later_messages(client, django_capture_on_commit_callbacks):
    client.cookies["prakerja_language"] = "en"
    _signup(client, django_capture_on_commit_callbacks, email="made@example.id")
    assert get_user_model().objects.get(email="made@example.id").language == "en"
    assert "Please Confirm Your Email Address" in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("pendek123", "Kata sandi terlalu pendek. Harus mengandung setidaknya 12 karakter."),
        ("password1234", "Kata sandi ini terlalu umum."),
        ("123456789012345", "Kata sandi ini seluruhnya terdiri dari angka."),
    ],
)
def test_weak_passwords_are_refused_with_an_indonesian_reason(
    client, django_capture_on_commit_callbacks, password, message
):
    response = _signup(client, django_capture_on_commit_callbacks, password=password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.filter(email="siti@example.id").exists()


def test_password_reset_email_goes_through_outbox(client, django_capture_on_commit_callbacks):
    user = get_user_model().objects.create_user(email="ayu@example.id", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "ayu@example.id"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_failed_logins_are_rate_limited_per_account(client):
    get_user_model().objects.create_user(email="rudi@example.id", password=PASSWORD)
    bodies = [
        client.post(
            reverse("account_login"), {"login": "rudi@example.id", "password": "salah-sekali-123"}
        ).content.decode()
        for _ in range(6)
    ]
    blocked = "Terlalu banyak percobaan masuk yang gagal. Coba lagi nanti."
    # allauth's "login_failed" limit: 5 failures per 5 minutes per account.
    assert [blocked in body for body in bodies] == [False] * 5 + [True]
    # Even the right password is refused while the limit holds.
    body = client.post(
        reverse("account_login"), {"login": "rudi@example.id", "password": PASSWORD}
    ).content.decode()
    assert blocked in body


def test_dashboard_requires_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_verification_email_names_the_portal(client, django_capture_on_commit_callbacks):
    _signup(client, django_capture_on_commit_callbacks, email="wulan@example.id")
    message = mail.outbox[0]
    assert message.subject == "[Prakerja] Konfirmasi alamat email Anda"
    assert message.body.startswith("Halo dari Portal Prakerja!")
    assert "untuk mendaftar akun di testserver." in message.body
    assert "Terima kasih telah menggunakan Portal Prakerja!\ntestserver" in message.body


def test_account_pages_say_email_the_way_the_portal_does(client, django_capture_on_commit_callbacks):
    response = _signup(client, django_capture_on_commit_callbacks, email="tono@example.id")
    html = client.get(response["Location"]).content.decode()
    assert "Periksa email Anda" in html
    assert "e-mail" not in html.lower()
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "tono@example.id", "password": "salah-sekali-2026"}
    )
    html = response.content.decode()
    assert "Alamat email atau kata sandi yang Anda masukkan salah." in html
    assert 'placeholder="Alamat email"' in html
    assert "e-mail" not in html.lower()


def test_a_lost_verification_email_is_sent_again_by_logging_in_at_most_every_three_minutes(
    client, django_capture_on_commit_callbacks
):
    """What the waiting page and the help page promise for a lost link."""
    from django.core.cache import cache

    _signup(client, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    page = client.get(reverse("account_email_verification_sent")).content.decode()
    assert "Periksa email Anda" in page
    assert "paling sering sekali dalam tiga menit" in page
    assert f'href="{reverse("account_login")}"' in page

    def log_in():
        client.logout()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("account_login"), {"login": "siti@example.id", "password": PASSWORD}
            )
        assert response["Location"] == reverse("account_email_verification_sent")

    log_in()
    assert len(mail.outbox) == 1  # within three minutes of the first link: no new one
    cache.clear()  # the rate limit's three minutes have passed
    log_in()
    assert len(mail.outbox) == 2
    assert re.search(r"/accounts/confirm-email/[^\s]+/", mail.outbox[1].body)
