import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_is_indonesian_by_default(client):
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="id" class="no-js">' in html
    assert "Daftar sekarang" in html
    assert "Rp1.000.000" in html


def test_language_switch_to_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en" class="no-js">' in html
    assert "Register now" in html
    client.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert "Daftar sekarang" in client.get(reverse("home")).content.decode()


def test_language_choice_is_saved_on_the_account(client, django_user_model):
    user = django_user_model.objects.create_user(email="eka@example.id", password="x" * 12)
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
    # A new browser without the cookie gets the saved language.
    client.cookies.clear()
    client.force_login(user)
    assert "My dashboard" in client.get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("name", ["account_signup", "account_login", "privacy", "help"])
def test_public_pages_render_in_indonesian(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert '<html lang="id" class="no-js">' in response.content.decode()


def test_not_found_page_is_friendly(client):
    response = client.get("/tidak-ada/")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.content.decode()


def test_signup_errors_are_summarised_and_linked(client):
    response = client.post(
        reverse("account_signup"), {"email": "bukan-email", "password1": "", "password2": ""}
    )
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_email"' in html
    assert 'aria-invalid="true"' in html


def test_admin_is_titled_in_indonesian(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Konsol Petugas Prakerja" in html


def test_dashboard_shows_the_timeline(client, django_user_model):
    from allauth.account.models import EmailAddress

    user = django_user_model.objects.create_user(email="nur@example.id", password="x" * 12)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-step="account"' in html
    assert 'data-step="email"' in html
    assert "Akun dibuat" in html


def test_browser_language_header_does_not_override_indonesian_default(client):
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="id" class="no-js">' in html
