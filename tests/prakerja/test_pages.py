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


def test_home_links_to_the_training_catalog(client):
    html = client.get(reverse("home")).content.decode()
    catalog = reverse("marketplace:catalog")
    assert f'<a class="button button-secondary" href="{catalog}">Buka katalog pelatihan</a>' in html
    # ...and the menu on every page has it too.
    assert f'<li><a href="{catalog}">Pelatihan</a></li>' in html


def test_help_page_points_to_the_catalog_and_can_be_called(client):
    html = client.get(reverse("help")).content.decode()
    assert f'<a href="{reverse("marketplace:catalog")}">katalog pelatihan</a>' in html
    # Once in the footer, once in the page's own contact section.
    assert html.count('<a href="tel:0212500200">(021) 2500 200</a>') == 2
    assert html.count('<a href="mailto:bantuan@prakerja.test">bantuan@prakerja.test</a>') == 2


def test_error_summary_links_radio_buttons_and_drops_the_labels_full_stop():
    from django import forms
    from django.template.loader import render_to_string

    class DeclarationForm(forms.Form):
        gender = forms.ChoiceField(label="Jenis kelamin", choices=[("M", "Laki-laki"), ("F", "Perempuan")],
                                   widget=forms.RadioSelect)  # fmt: skip
        not_student = forms.BooleanField(label="Saya tidak sedang kuliah.")

    html = render_to_string("prakerja/_error_summary.html", {"form": DeclarationForm(data={})})
    assert '<a href="#id_gender_0">Jenis kelamin: ' in html
    assert '<a href="#id_not_student">Saya tidak sedang kuliah: ' in html
    assert 'href="#"' not in html


def test_dashboard_says_so_when_every_open_step_is_done(client):
    from kyc.models import KycCase
    from tests.factories import ApplicantFactory

    # Profile, phone, NIK and KYC done; no wave is open, so nothing is the applicant's turn.
    applicant = ApplicantFactory()
    KycCase.objects.create(applicant=applicant, status="verified")
    client.force_login(applicant.user)
    response = client.get(reverse("dashboard"))
    assert response.context["next_step"] is None
    html = response.content.decode()
    assert "Semua langkah sudah selesai" in html
    assert "Langkah berikutnya akan muncul di halaman ini begitu dibuka." in html
    # A done step keeps its link: the applicant can still look at the data they gave.
    assert f'<a href="{reverse("registration:profile_detail")}">Lihat data saya</a>' in html


def test_dashboard_of_an_officer_shows_the_console_instead_of_the_applicant_steps(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.context["steps"] == []
    assert "Ini akun petugas" in html
    assert f'href="{reverse("admin:index")}">Buka konsol petugas</a>' in html
    assert "Isi profil saya" not in html
    assert "Didaftarkan di kantor Disnaker?" not in html
