"""The applicant profile: rules in the service, and the form page in Indonesian."""

import datetime
import re

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from prakerja.models import AuditEntry
from registration.enums import CivilRegistryStatus
from registration.forms import ProfileForm
from registration.models import Applicant
from registration.nik import NIK_ERRORS
from registration.regions import regions_cache_clear
from registration.services import PROFILE_ERRORS, RegistrationError, applicant_profile_save
from tests.factories import ApplicantFactory, UserFactory
from tests.registration.factories import civil_record_for, profile_input, profile_post

pytestmark = pytest.mark.django_db


def test_profile_save_creates_applicant_and_verifies_with_civil_registry(django_capture_on_commit_callbacks):
    user = UserFactory()
    data = profile_input()
    civil_record_for(data)
    with django_capture_on_commit_callbacks(execute=True):
        applicant = applicant_profile_save(user=user, data=data)
    applicant.refresh_from_db()
    assert (applicant.nik, applicant.kk_number, applicant.full_name) == (
        data.nik,
        data.kk_number,
        "Budi Santoso",
    )
    assert (applicant.province_id, applicant.regency_id, applicant.district_id) == ("32", "32.75", "32.75.01")
    assert applicant.civil_status == CivilRegistryStatus.VERIFIED
    assert applicant.profile_completed_at is not None
    assert (applicant.consent_version, applicant.declarations_version) == ("2026-01", "2026-01")
    assert applicant.consent_at is not None and applicant.declarations_at is not None
    actions = list(AuditEntry.objects.filter(target_id=str(applicant.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["registration.civil_check", "registration.profile_created"]
    assert data.nik not in str(AuditEntry.objects.values_list("data", flat=True)[::1])


def test_name_is_tidied_and_nik_spaces_removed():
    data = profile_input(full_name="  budi   santoso ", nik="3275 0114 0395 0001")
    applicant = applicant_profile_save(user=UserFactory(), data=data)
    assert (applicant.full_name, applicant.nik) == ("budi santoso", "3275011403950001")


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"gender": "F", "nik": "3275011403950001"}, "gender", "gender_mismatch"),
        (
            {"birth_date": datetime.date(1995, 3, 15), "nik": "3275011403950001"},
            "birth_date",
            "birth_date_mismatch",
        ),
        ({"kk_number": "3275011403950001"}, "kk_number", "kk_same_as_nik"),
        ({"kk_number": "32750101011000"}, "kk_number", "kk_length"),
        ({"kk_number": "3275O10101100001"}, "kk_number", "kk_not_digits"),
        ({"kk_number": "9999010101100001"}, "kk_number", "kk_unknown_district"),
        ({"full_name": "Budi 123"}, "full_name", "name_invalid"),
        ({"nik": "9999011403950001"}, "nik", "unknown_district"),
        ({"district_code": "99.99.99"}, "district", "required"),
    ],
)
def test_each_profile_rule_has_its_own_error(overrides, field, code):
    with pytest.raises(RegistrationError) as caught:
        applicant_profile_save(user=UserFactory(), data=profile_input(**overrides))
    assert [(name, c) for name, items in caught.value.errors.items() for c, _m in items] == [(field, code)]
    assert not Applicant.objects.exists()


def test_one_nik_one_applicant():
    data = profile_input()
    applicant_profile_save(user=UserFactory(), data=data)
    with pytest.raises(RegistrationError) as caught:
        applicant_profile_save(user=UserFactory(), data=profile_input(kk_number="3275010101100002"))
    assert caught.value.codes == ["nik_taken"]
    assert Applicant.objects.count() == 1


def test_at_most_two_applicants_per_family_card(settings):
    assert settings.REGISTRATION_MAX_APPLICANTS_PER_KK == 2
    applicant_profile_save(user=UserFactory(), data=profile_input(serial=1))
    applicant_profile_save(user=UserFactory(), data=profile_input(serial=2))
    with pytest.raises(RegistrationError) as caught:
        applicant_profile_save(user=UserFactory(), data=profile_input(serial=3))
    assert caught.value.codes == ["kk_full"]
    assert caught.value.errors["kk_number"][0][1] == (
        "Jumlah maksimal pendaftar dari satu Kartu Keluarga (2) sudah terdaftar. "
        "Hanya 2 anggota keluarga yang boleh mendaftar."
    )
    settings.REGISTRATION_MAX_APPLICANTS_PER_KK = 3
    applicant_profile_save(user=UserFactory(), data=profile_input(serial=3))
    assert Applicant.objects.filter(kk_number="3275010101100001").count() == 3


def test_saving_again_keeps_the_family_card_place():
    user = UserFactory()
    applicant_profile_save(user=user, data=profile_input(serial=1))
    applicant_profile_save(user=UserFactory(), data=profile_input(serial=2))
    applicant_profile_save(user=user, data=profile_input(serial=1, address="Jl. Baru 2"))
    assert Applicant.objects.get(user=user).address == "Jl. Baru 2"


def test_identity_cannot_change_after_civil_registry_verified_it(django_capture_on_commit_callbacks):
    user = UserFactory()
    data = profile_input()
    civil_record_for(data)
    with django_capture_on_commit_callbacks(execute=True):
        applicant_profile_save(user=user, data=data)
    assert Applicant.objects.get(user=user).civil_status == CivilRegistryStatus.VERIFIED
    with pytest.raises(RegistrationError) as caught:
        applicant_profile_save(user=user, data=profile_input(serial=2))
    assert caught.value.codes == ["identity_locked"]
    # Other fields may still change, and the verification stays.
    applicant = applicant_profile_save(user=user, data=profile_input(address="Jl. Pindah 9"))
    assert (applicant.address, applicant.civil_status) == ("Jl. Pindah 9", CivilRegistryStatus.VERIFIED)


def test_correcting_data_after_a_mismatch_checks_again(django_capture_on_commit_callbacks):
    user = UserFactory()
    data = profile_input(full_name="Budi Santosa")
    civil_record_for(data, full_name="BUDI  SANTOSO")
    with django_capture_on_commit_callbacks(execute=True):
        applicant_profile_save(user=user, data=data)
    applicant = Applicant.objects.get(user=user)
    assert (applicant.civil_status, applicant.civil_mismatch_fields) == ("mismatch", ["full_name"])
    with django_capture_on_commit_callbacks(execute=True):
        applicant_profile_save(user=user, data=profile_input(full_name="budi santoso"))
    applicant.refresh_from_db()
    assert (applicant.civil_status, applicant.civil_mismatch_fields) == ("verified", [])


# --- The page ------------------------------------------------------------------------


def test_profile_page_in_indonesian(client):
    client.force_login(UserFactory())
    response = client.get(reverse("registration:profile"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Lengkapi profil</h1>" in html
    assert "NIK (16 digit)" in html
    assert 'data-options-url="/wilayah/kabupaten/?parent="' in html
    assert "Saya bukan Aparatur Sipil Negara" in html


def test_profile_form_post_saves_and_continues_to_phone(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration:profile"), profile_post())
    assert response.status_code == 302
    assert response["Location"] == reverse("registration:phone")
    applicant = Applicant.objects.get(user=user)
    assert applicant.civil_status == CivilRegistryStatus.NOT_FOUND  # no civil record loaded


def test_profile_form_errors_are_indonesian_and_keep_what_was_typed(client):
    client.force_login(UserFactory())
    body = profile_post(profile_input(gender="F", nik="3275011403950001"), address="Gang Mawar 7")
    body.pop("not_student")
    response = client.post(reverse("registration:profile"), body)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mohon periksa hal berikut" in html
    assert "Centang kotak ini untuk mengonfirmasi" in html
    assert not Applicant.objects.exists()
    # The service's NIK rule also speaks once the form itself is valid.
    body["not_student"] = "on"
    response = client.post(reverse("registration:profile"), body)
    html = response.content.decode()
    assert "Jenis kelamin yang Anda pilih tidak sesuai dengan NIK ini" in html
    assert 'value="3275011403950001"' in html
    assert "Gang Mawar 7" in html
    assert '<option value="32.75.01" selected>Bekasi Timur</option>' in html


def test_regency_must_be_in_the_province(client):
    client.force_login(UserFactory())
    response = client.post(reverse("registration:profile"), profile_post(province="31"))
    assert response.status_code == 200
    assert not Applicant.objects.exists()


def test_locked_identity_fields_are_disabled(client):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    html = client.get(reverse("registration:profile")).content.decode()
    assert 'name="nik"' in html and "disabled" in html.split('name="nik"')[1].split(">")[0]
    assert "Diverifikasi oleh Dukcapil" in html


def test_profile_page_requires_login(client):
    response = client.get(reverse("registration:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_region_endpoints(client, django_assert_num_queries):
    regions_cache_clear()
    with django_assert_num_queries(1):
        response = client.get("/wilayah/kabupaten/?parent=32")
    with django_assert_num_queries(0):  # remembered by the process: regions do not change at run time
        assert client.get("/wilayah/kabupaten/?parent=32").json() == response.json()
    results = response.json()["results"]
    assert len(results) == 27
    assert {"code": "32.75", "name": "Kota Bekasi"} in results
    assert "max-age=86400" in response["Cache-Control"]
    districts = client.get("/wilayah/kecamatan/?parent=32.75").json()["results"]
    assert {"code": "32.75.01", "name": "Bekasi Timur"} in districts
    assert client.get("/wilayah/kecamatan/?parent=xx").json() == {"results": []}


def test_profile_detail_shows_masked_identifiers(client):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    html = client.get(reverse("registration:profile_detail")).content.decode()
    assert applicant.masked_nik in html
    assert applicant.nik not in html
    assert applicant.kk_number not in html
    assert "memenuhi semua persyaratan pendaftaran" in html


def test_nik_errors_show_with_the_other_errors_on_the_first_submit(client):
    client.force_login(UserFactory())
    response = client.post(reverse("registration:profile"), {"nik": "3275013201900001", "gender": "F"})
    html = response.content.decode()
    assert "Digit ke-7 sampai ke-12 NIK ini bukan tanggal lahir yang valid." in html
    assert "Tempat lahir: Bidang ini tidak boleh kosong." in html
    assert not Applicant.objects.exists()


def test_family_card_and_name_errors_show_with_the_other_errors_on_the_first_submit(client):
    client.force_login(UserFactory())
    body = profile_post(kk_number="327501010110000", full_name="Budi @#$ Santoso", birth_date="1995-03-15")
    response = client.post(reverse("registration:profile"), body)
    html = response.content.decode()

    def shown(message) -> bool:
        with translation.override("id"):
            return escape(str(message)) in html

    assert shown(PROFILE_ERRORS["kk_length"])
    assert shown(PROFILE_ERRORS["name_invalid"])
    assert shown(NIK_ERRORS["birth_date_mismatch"])
    assert not Applicant.objects.exists()
    # The family card may not be the NIK itself; the rule reads the NIK typed in the same form.
    nik = profile_input().nik
    html = client.post(reverse("registration:profile"), profile_post(kk_number=nik)).content.decode()
    assert shown(PROFILE_ERRORS["kk_same_as_nik"])


def test_profile_submission_takes_fewer_than_12_queries(client, django_assert_max_num_queries):
    # Another person's submission first: region lookups are then remembered by the process.
    client.force_login(UserFactory())
    assert client.post(reverse("registration:profile"), profile_post()).status_code == 302
    user = UserFactory()
    client.force_login(user)
    body = profile_post(profile_input(serial=2, kk_number="3275010101100002"))
    # Session, user, applicant; in the transaction (a savepoint here): the applicant locked,
    # the family card created or locked, its members counted with the lists read (one
    # statement), the insert, the audit entry.
    with django_assert_max_num_queries(10):
        response = client.post(reverse("registration:profile"), body)
    assert response.status_code == 302
    applicant = Applicant.objects.get(user=user)
    assert applicant.nik == body["nik"] and applicant.profile_completed_at is not None
    assert AuditEntry.objects.filter(
        action="registration.profile_created", target_id=str(applicant.pk)
    ).exists()


# --- The blank form page of a first-time applicant, served from the process memo -------------

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _rendered_the_ordinary_way(response) -> str:
    """The page as the view renders it for a first-time applicant without the memo."""
    context = {
        "form": ProfileForm(initial={}, locked=False),
        "applicant": None,
        "locked": False,
        "first_time": True,
        "consent_version": settings.REGISTRATION_CONSENT_VERSION,
    }
    return render_to_string("registration/profile_form.html", context, response.wsgi_request)


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_blank_profile_page_is_the_rendered_page(client, language):
    client.cookies["prakerja_language"] = language
    client.force_login(UserFactory())
    first = client.get(reverse("registration:profile") + "?dari=dasbor")
    again = client.get(reverse("registration:profile") + "?dari=dasbor")
    assert first.status_code == again.status_code == 200
    expected = CSRF.sub("-", _rendered_the_ordinary_way(again))
    assert CSRF.sub("-", first.content.decode()) == CSRF.sub("-", again.content.decode()) == expected
    html = again.content.decode()
    # The visitor's own token (logout, profile and language forms) and return address.
    assert len(set(CSRF.findall(html))) == 1 and len(CSRF.findall(html)) == 3
    assert '<input name="next" type="hidden" value="/profil/?dari=dasbor">' in html
    assert ("Lengkapi profil" if language == "id" else "Complete your profile") in html


def test_the_blank_profile_pages_token_is_accepted(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("registration:profile"))  # rendered into the memo
    html = client.get(reverse("registration:profile")).content.decode()
    client.handler.enforce_csrf_checks = True
    body = {**profile_post(), "csrfmiddlewaretoken": CSRF.search(html).group(1)}
    response = client.post(reverse("registration:profile"), body)
    assert response.status_code == 302
    assert Applicant.objects.filter(user=user).exists()


def test_a_waiting_message_and_a_returning_applicant_get_the_page_rendered(client):
    client.force_login(UserFactory())
    client.get(reverse("registration:profile"))
    client.post(reverse("registration:profile"), profile_post())  # saved: "Profil Anda tersimpan"
    html = client.get(reverse("registration:profile")).content.decode()
    assert '<div class="messages" role="status">' in html
    assert "<h1>Profil saya</h1>" in html and 'value="Budi Santoso"' in html


@pytest.mark.parametrize("language", ["id", "en"])
def test_profile_form_choices_shared_once_render_and_validate_as_plain_lists(language):
    """The form's choice sets are made once per process (registration.forms.FixedChoices): each
    widget renders, and each field accepts and refuses, exactly as with the plain lists."""
    from django.utils import translation

    from registration.enums import Education, EmploymentStatus, Gender
    from registration.regions import region_choices

    def plain(form):
        """The same form with the choices as the form used to set them: plain lists."""
        province = form.data.get("province") if form.is_bound else form.initial.get("province")
        regency = form.data.get("regency") if form.is_bound else form.initial.get("regency")
        choose = [("", translation.gettext_lazy("Choose"))]
        form.fields["gender"].choices = Gender.choices
        form.fields["education"].choices = choose + Education.choices
        form.fields["employment_status"].choices = EmploymentStatus.choices
        form.fields["province"].choices = choose + region_choices("province")
        form.fields["regency"].choices = (
            choose + region_choices("regency", province)
            if province
            else [("", translation.gettext_lazy("Choose a province first"))]
        )
        form.fields["district"].choices = (
            choose + region_choices("district", regency)
            if regency
            else [("", translation.gettext_lazy("Choose a regency first"))]
        )
        return form

    names = ("gender", "education", "employment_status", "province", "regency", "district")
    bodies = [
        None,
        profile_post(),
        profile_post(district="32.75.99", education="doktor", gender="X"),
        profile_post(province="31", regency="31.71", district="31.71.01"),
    ]
    with translation.override(language):
        for body in bodies:
            fast = ProfileForm(body) if body else ProfileForm()
            slow = plain(ProfileForm(body) if body else ProfileForm())
            for name in names:
                assert list(fast.fields[name].choices) == list(slow.fields[name].choices)
                assert fast[name].as_widget() == slow[name].as_widget()
            if body is not None:
                assert fast.is_valid() == slow.is_valid()
                assert fast.errors == slow.errors
    # Shared, not copied: the next form holds the same choice objects.
    assert ProfileForm().fields["province"].choices is ProfileForm().fields["province"].choices
