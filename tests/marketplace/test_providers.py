import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace import services
from marketplace.enums import DocumentKind, ProviderStatus
from marketplace.exceptions import TransitionNotAllowed
from marketplace.models import Provider, ProviderAffiliation, ProviderDocument
from prakerja.enums import NotificationChannel
from prakerja.models import AuditEntry, Notification
from prakerja.roles import Role
from tests.factories import UserFactory
from tests.marketplace.factories import ListingFactory, PlatformFactory, ProviderFactory

pytestmark = pytest.mark.django_db

APPLY = "/lembaga/daftar/"
PDF = b"%PDF-1.4\n% test document\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def pdf(name="dokumen.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def application(**overrides):
    data = {
        "legal_name": "PT Pelatihan Maju Jaya",
        "brand_name": "Maju Jaya Academy",
        "nib": "1234567890123",
        "description": "Lembaga pelatihan digital.",
        "address": "Jl. Merdeka No. 10",
        "province": "32",
        "district": "32.75.02",
        "contact_name": "Budi Hartono",
        "contact_email": "budi@majujaya.example",
        "contact_phone": "+6281211112222",
        "website": "",
        "affiliation_details": "",
        "truthful": "on",
        "doc_curriculum": pdf("kurikulum.pdf"),
        "doc_syllabus": pdf("silabus.pdf"),
        "doc_trainers": SimpleUploadedFile("pelatih.png", PNG, content_type="image/png"),
        "doc_evaluation": pdf("evaluasi.pdf"),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def officer(role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_application_form_is_public_and_indonesian(client):
    response = client.get(APPLY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Daftar sebagai lembaga pelatihan" in html
    assert 'enctype="multipart/form-data"' in html


def test_apply_stores_documents_privately_and_emails_the_contact(client):
    platform = PlatformFactory(slug="pintaria", name="Pintaria")
    response = client.post(
        APPLY,
        application(affiliated_platforms=[platform.pk], affiliation_details="Pemegang saham yang sama"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("marketplace:provider_applied")
    provider = Provider.objects.get(nib="1234567890123")
    assert provider.status == ProviderStatus.APPLIED
    assert provider.district_id == "32.75.02"
    documents = {d.kind: d for d in provider.documents.all()}
    assert set(documents) == {
        DocumentKind.CURRICULUM,
        DocumentKind.SYLLABUS,
        DocumentKind.TRAINER_QUALIFICATIONS,
        DocumentKind.EVALUATION_METHOD,
    }
    trainers = documents[DocumentKind.TRAINER_QUALIFICATIONS]
    assert (trainers.original_name, trainers.content_type, trainers.size) == (
        "pelatih.png",
        "image/png",
        len(PNG),
    )
    # Stored under a random name in private storage, never the uploader's name.
    assert trainers.file.name.startswith(f"providers/{provider.pk}/")
    assert "pelatih" not in trainers.file.name
    assert default_storage.open(trainers.file.name).read() == PNG
    assert list(provider.affiliations.values_list("platform__slug", "relationship")) == [
        ("pintaria", "Pemegang saham yang sama")
    ]
    email = Notification.objects.get(channel=NotificationChannel.EMAIL)
    assert email.recipient == "budi@majujaya.example"
    assert "Pendaftaran diterima" in email.subject
    assert AuditEntry.objects.get(action="marketplace.provider.applied").target_id == str(provider.pk)
    thanks = client.get(reverse("marketplace:provider_applied")).content.decode()
    assert "Pendaftaran diterima" in thanks


def test_errors_keep_typed_text_and_uploaded_files(client):
    response = client.post(APPLY, application(nib="12345", doc_evaluation=None))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert "PT Pelatihan Maju Jaya" in html  # typed text stays
    assert html.count('data-stashed="') == 3  # the three good files are kept
    assert "Unggah dokumen ini (PDF, JPG, atau PNG)." in html
    tokens = dict(re.findall(r'name="(doc_\w+)_stash" value="([^"]+)"', html))
    assert set(tokens) == {"doc_curriculum", "doc_syllabus", "doc_trainers"}
    # Second try: fix the NIB, add only the missing file, send the kept ones back as tokens.
    retry = application(doc_curriculum=None, doc_syllabus=None, doc_trainers=None)
    retry.update({f"{name}_stash": token for name, token in tokens.items()})
    response = client.post(APPLY, retry)
    assert response.status_code == 302
    provider = Provider.objects.get(nib="1234567890123")
    assert provider.documents.count() == 4
    trainers = provider.documents.get(kind=DocumentKind.TRAINER_QUALIFICATIONS)
    assert trainers.original_name == "pelatih.png"
    assert default_storage.open(trainers.file.name).read() == PNG
    _folders, leftovers = default_storage.listdir("provider-uploads")
    assert leftovers == []


def test_a_forged_stash_token_is_ignored(client):
    data = application(doc_curriculum=None)
    data["doc_curriculum_stash"] = "provider-uploads/../../etc/passwd"
    response = client.post(APPLY, data)
    assert response.status_code == 200
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("kurikulum.pdf", b"PK\x03\x04 word file"), "Unggah berkas PDF, JPG, atau PNG."),
        (SimpleUploadedFile("kurikulum.pdf", b""), "Berkas ini kosong."),
    ],
)
def test_wrong_files_are_refused_with_a_clear_message(client, upload, message):
    response = client.post(APPLY, application(doc_curriculum=upload))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Provider.objects.exists()


def test_too_large_file_is_refused(client, settings):
    settings.MARKETPLACE_DOCUMENT_MAX_BYTES = 10
    response = client.post(APPLY, application())
    assert "batasnya" in response.content.decode()
    assert not Provider.objects.exists()


def test_duplicate_nib_is_refused_unless_the_first_was_rejected(client):
    ProviderFactory(nib="1234567890123", status=ProviderStatus.VERIFIED)
    response = client.post(APPLY, application())
    assert "sudah terdaftar atau sedang ditinjau" in response.content.decode()
    Provider.objects.update(status=ProviderStatus.REJECTED)
    assert client.post(APPLY, application()).status_code == 302
    assert Provider.objects.filter(nib="1234567890123").count() == 2


def test_district_must_be_in_the_province(client):
    response = client.post(APPLY, application(province="31"))
    assert response.status_code == 200
    assert not Provider.objects.exists()


def test_affiliation_needs_a_description(client):
    platform = PlatformFactory()
    response = client.post(APPLY, application(affiliated_platforms=[platform.pk]))
    assert "Jelaskan bagaimana lembaga Anda terafiliasi" in response.content.decode()


def test_applications_are_rate_limited(client, settings):
    settings.MARKETPLACE_APPLICATIONS_PER_HOUR = 1
    assert client.post(APPLY, application()).status_code == 302
    response = client.post(APPLY, application(nib="9999999999999"))
    assert response.status_code == 200
    assert "Terlalu banyak pendaftaran" in response.content.decode()


def test_districts_endpoint_lists_a_provinces_districts(client):
    body = client.get(reverse("marketplace:districts"), {"province": "32"}).json()
    codes = [row["code"] for row in body["results"]]
    assert "32.75.02" in codes
    assert all(code.startswith("32.") for code in codes)
    assert {"code": "32.75.02", "name": "Bekasi Barat, Kota Bekasi"} in body["results"]


# --- decisions -------------------------------------------------------------------


def test_decisions_move_status_audit_and_email():
    actor = officer(Role.PROGRAMME_OFFICER)
    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    services.provider_verify(provider_id=provider.pk, actor=actor, reason="Dokumen lengkap")
    services.provider_suspend(provider_id=provider.pk, actor=actor, reason="Pengaduan peserta")
    services.provider_reinstate(provider_id=provider.pk, actor=actor, reason="Klarifikasi diterima")
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.VERIFIED
    assert provider.decided_by == actor
    actions = list(
        AuditEntry.objects.filter(target_id=str(provider.pk), action__startswith="marketplace.provider.")
        .order_by("id")
        .values_list("action", "data__reason")
    )
    assert actions == [
        ("marketplace.provider.verified", "Dokumen lengkap"),
        ("marketplace.provider.suspended", "Pengaduan peserta"),
        ("marketplace.provider.reinstated", "Klarifikasi diterima"),
    ]
    emails = list(Notification.objects.order_by("id").values_list("body", flat=True))
    assert len(emails) == 3
    assert "Alasan: Pengaduan peserta" in emails[1]


def test_reject_needs_a_reason():
    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    with pytest.raises(ValidationError):
        services.provider_reject(provider_id=provider.pk, actor=None, reason="  ")
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.APPLIED


def test_a_decision_on_a_decided_provider_is_refused():
    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    services.provider_reject(provider_id=provider.pk, actor=None, reason="NIB tidak valid")
    with pytest.raises(TransitionNotAllowed):
        services.provider_verify(provider_id=provider.pk, actor=None)
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.REJECTED


def test_suspension_removes_every_listing_from_the_catalog(client):
    listing = ListingFactory()
    assert f'data-listing-id="{listing.pk}"' in client.get("/pelatihan/").content.decode()
    services.provider_suspend(provider_id=listing.training.provider_id, actor=None, reason="Audit")
    assert f'data-listing-id="{listing.pk}"' not in client.get("/pelatihan/").content.decode()


# --- the console -------------------------------------------------------------------


def test_reject_action_asks_for_a_reason_then_applies_it(client):
    user = officer(Role.PROGRAMME_OFFICER)
    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    client.force_login(user)
    url = reverse("admin:marketplace_provider_changelist")
    form = client.post(url, {"action": "reject", "_selected_action": [provider.pk]})
    assert form.status_code == 200
    assert "Tolak pendaftaran" in form.content.decode()
    done = client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [provider.pk],
            "apply": "1",
            "reason": "Silabus tidak lengkap",
        },
    )
    assert done.status_code == 302
    provider.refresh_from_db()
    assert (provider.status, provider.status_reason, provider.decided_by) == (
        ProviderStatus.REJECTED,
        "Silabus tidak lengkap",
        user,
    )


def test_affiliation_added_in_the_console_is_audited(client):
    user = officer(Role.PROGRAMME_OFFICER)
    provider = ProviderFactory()
    platform = PlatformFactory()
    client.force_login(user)
    url = reverse("admin:marketplace_provider_change", args=[provider.pk])
    data = {
        "legal_name": provider.legal_name,
        "brand_name": "",
        "nib": provider.nib,
        "description": "",
        "website": "",
        "address": provider.address,
        "district": provider.district_id,
        "contact_name": provider.contact_name,
        "contact_email": provider.contact_email,
        "contact_phone": provider.contact_phone,
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "affiliations-TOTAL_FORMS": "1",
        "affiliations-INITIAL_FORMS": "0",
        "affiliations-0-platform": platform.pk,
        "affiliations-0-relationship": "Direksi yang sama",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ProviderAffiliation.objects.get(provider=provider).platform == platform
    entry = AuditEntry.objects.get(action="marketplace.provider.affiliation_recorded")
    assert entry.actor == user
    assert entry.data["relationship"] == "Direksi yang sama"


def _document():
    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    document = ProviderDocument(
        provider=provider,
        kind=DocumentKind.TRAINER_QUALIFICATIONS,
        original_name="cv-pelatih.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="x",
    )
    document.file.save("cv.pdf", SimpleUploadedFile("cv.pdf", PDF), save=True)
    return document


def test_documents_are_served_to_officers_with_permission_only(client):
    document = _document()
    url = reverse("admin:marketplace_providerdocument_download", args=[document.pk])
    # Nobody outside: anonymous visitors are sent to the login page.
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous["Location"]
    # An applicant account, not staff: same.
    client.force_login(UserFactory())
    assert client.get(url).status_code == 302
    # Staff who may see marketplace records but not documents (finance, KYC): refused.
    for role in (Role.FINANCE_OFFICER, Role.KYC_REVIEWER):
        client.force_login(officer(role))
        assert client.get(url).status_code == 403
    # A programme officer downloads it, as an attachment, and the download is audited.
    user = officer(Role.PROGRAMME_OFFICER)
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="cv-pelatih.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.get(action="marketplace.provider.document_downloaded").actor == user


def test_private_files_have_no_public_url(client):
    document = _document()
    assert client.get(f"/private-files-are-not-served/{document.file.name}").status_code == 404
    assert client.get(f"/static/{document.file.name}").status_code == 404


def test_provider_list_query_count_is_constant(
    client, django_assert_num_queries, django_assert_max_num_queries
):
    client.force_login(officer(Role.PROGRAMME_OFFICER))
    url = reverse("admin:marketplace_provider_changelist")
    ProviderFactory()
    with django_assert_max_num_queries(50) as one:
        assert client.get(url).status_code == 200
    ProviderFactory()
    ProviderFactory()
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)


@pytest.mark.parametrize("role", [Role.KYC_REVIEWER, Role.DISNAKER_STAFF])
def test_staff_without_marketplace_roles_cannot_open_providers(client, role):
    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    client.force_login(officer(role))
    assert client.get(reverse("admin:marketplace_provider_changelist")).status_code == 403
    assert client.get(reverse("admin:marketplace_provider_change", args=[provider.pk])).status_code == 403
    assert client.get(reverse("admin:marketplace_platform_changelist")).status_code == 403


def test_unticked_declaration_says_what_to_tick(client):
    response = client.post(APPLY, application(truthful=None))
    assert response.status_code == 200
    assert response.context["form"].errors["truthful"] == [
        "Centang kotak ini untuk membuat pernyataan; tanpa itu permohonan tidak dapat kami periksa."
    ]
    assert response.context["form"]["legal_name"].value() == "PT Pelatihan Maju Jaya"
