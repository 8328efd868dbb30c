"""Trainings and listings: console imports on the ImportJob pipeline, console saves through services."""

import csv
import io

import pytest
import tablib
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace import services
from marketplace.enums import TrainingStatus
from marketplace.exceptions import TransitionNotAllowed
from marketplace.models import Listing, Training
from prakerja.models import AuditEntry
from prakerja.roles import Role
from registration.enums import ImportStatus
from registration.models import ImportJob
from tests.factories import UserFactory, reauthenticate
from tests.marketplace.factories import ListingFactory, PlatformFactory, ProviderFactory, TrainingFactory

pytestmark = pytest.mark.django_db

TRAINING_HEADERS = ["id", "provider_nib", "title", "description", "category", "level", "mode", "duration_hours",
                    "price", "address", "district_code", "latitude", "longitude"]  # fmt: skip


def officer(role=Role.PROGRAMME_OFFICER):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def training_row(nib, **overrides):
    row = {"id": "", "provider_nib": nib, "title": "Menjahit Busana Muslim", "description": "Pola, potong, jahit.",
           "category": "beauty", "level": "basic", "mode": "offline", "duration_hours": "24", "price": "450000",
           "address": "Jl. Melati 3", "district_code": "32.75.02", "latitude": "-6.2383", "longitude": "106.9756"}  # fmt: skip
    row.update(overrides)
    return [row[h] for h in TRAINING_HEADERS]


def csv_of(headers, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def run_import(client, url_name, name, content, capture, *, confirm=True):
    with capture(execute=True):
        response = client.post(reverse(url_name), {"file": SimpleUploadedFile(name, content)})
    job = ImportJob.objects.latest("id")
    assert response["Location"] == reverse(url_name + "_job", args=[job.pk])
    if confirm:
        with capture(execute=True):
            client.post(response["Location"], {"action": "confirm"})
    job.refresh_from_db()
    return job, response["Location"]


def test_training_import_dry_run_reports_row_errors_then_imports_drafts(
    client, django_capture_on_commit_callbacks
):
    provider = ProviderFactory(nib="1111222233334")
    user = officer()
    client.force_login(user)
    rows = [
        training_row(provider.nib),
        training_row("9999999999999", title="Lembaga Tak Dikenal"),
        training_row(provider.nib, price="2000000", title="Terlalu Mahal"),
        training_row(provider.nib, category="astrology", title="Ramalan"),
        training_row(provider.nib, title="menjahit  busana muslim"),  # the same training again
        training_row(
            provider.nib,
            title="Bordir Dasar",
            mode="self_paced",
            address="",
            district_code="",
            latitude="",
            longitude="",
        ),  # fmt: skip
    ]
    job, url = run_import(
        client, "admin:marketplace_training_import", "pelatihan.csv", csv_of(TRAINING_HEADERS, rows),
        django_capture_on_commit_callbacks, confirm=False,
    )  # fmt: skip
    assert (job.kind, job.status, job.valid_rows, job.error_count) == (
        "trainings",
        ImportStatus.VALIDATED,
        2,
        4,
    )
    errors = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert errors[(3, "provider_nib")] == "Tidak ada lembaga terdaftar dengan NIB 9999999999999."
    assert errors[(4, "price")] == "Harga tidak boleh lebih dari Rp1.000.000."
    assert (5, "category") in errors
    assert errors[(6, "id, provider_nib, title")].startswith("Sama dengan baris 2")
    assert not Training.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "confirm"})
    job.refresh_from_db()
    assert job.summary == {"imported": 2, "created": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert sorted(Training.objects.values_list("title", "status")) == [
        ("Bordir Dasar", TrainingStatus.DRAFT),
        ("Menjahit Busana Muslim", TrainingStatus.DRAFT),
    ]
    assert AuditEntry.objects.filter(action="marketplace.training.created", actor=user).count() == 2


def test_training_import_cannot_overwrite_an_approved_training(client, django_capture_on_commit_callbacks):
    training = TrainingFactory(status=TrainingStatus.APPROVED, title="Asli")
    client.force_login(officer())
    row = training_row(training.provider.nib, id=str(training.pk), title="Diubah", mode="self_paced", address="",
                       district_code="", latitude="", longitude="")  # fmt: skip
    job, _url = run_import(
        client, "admin:marketplace_training_import", "p.csv", csv_of(TRAINING_HEADERS, [row]),
        django_capture_on_commit_callbacks, confirm=False,
    )  # fmt: skip
    assert (job.valid_rows, job.error_count) == (0, 1)
    assert job.errors[0]["column"] == "id"
    assert Training.objects.get(pk=training.pk).title == "Asli"


def test_training_import_reads_xlsx(client, django_capture_on_commit_callbacks):
    provider = ProviderFactory(nib="1111222233334")
    client.force_login(officer())
    dataset = tablib.Dataset(headers=TRAINING_HEADERS)
    dataset.append(training_row(provider.nib, title="Akuntansi UMKM dengan Spreadsheet"))
    job, _url = run_import(
        client, "admin:marketplace_training_import", "pelatihan.xlsx", dataset.export("xlsx"),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert job.status == ImportStatus.DONE
    assert Training.objects.get().provider == provider


def test_listing_import_updates_by_platform_and_sku_checks_the_ceiling_and_repeated_skus(
    client, django_capture_on_commit_callbacks
):
    platform = PlatformFactory(slug="pintaria")
    training = TrainingFactory(price=400_000)
    existing = ListingFactory(platform=platform, training=training, sku="PIN-9", price=400_000)
    other = TrainingFactory(price=200_000)
    headers = ["platform", "sku", "training_id", "url", "price", "is_available"]
    rows = [
        ["pintaria", "PIN-9", training.pk, existing.url, 350000, "1"],
        ["pintaria", "PIN-10", other.pk, "https://pintaria.example/p/10", 250000, "1"],
        ["nope", "X-1", other.pk, "https://x.example/1", 100000, "1"],
        ["pintaria", "PIN-11", other.pk, "https://pintaria.example/p/11", 199000, "0"],
        ["pintaria", "PIN-11", other.pk, "https://pintaria.example/p/11b", 150000, "1"],
    ]
    client.force_login(officer())
    job, _url = run_import(
        client, "admin:marketplace_listing_import", "listing.csv", csv_of(headers, rows),
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    errors = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert (
        errors[(3, "price")]
        == "Harga tidak boleh lebih dari harga pelatihan yang disetujui, yaitu Rp200.000."
    )
    assert errors[(4, "platform")] == "Platform nope tidak dikenal (gunakan nama singkatnya)."
    assert errors[(6, "platform, sku")].startswith("Sama dengan baris 5")
    assert job.summary == {"imported": 2, "created": 1, "updated": 1, "unchanged": 0, "failed": 0}
    assert Listing.objects.get(pk=existing.pk).price == 350_000
    created = Listing.objects.get(platform=platform, sku="PIN-11")
    assert (created.price, created.is_available, created.url) == (
        199_000,
        False,
        "https://pintaria.example/p/11",
    )
    assert AuditEntry.objects.filter(action="marketplace.listing.created").count() == 1
    assert AuditEntry.objects.filter(action="marketplace.listing.updated").count() == 1


def test_console_listing_add_and_change_go_through_the_services(client):
    platform = PlatformFactory(slug="pintaria")
    training = TrainingFactory(price=400_000)
    client.force_login(officer())
    data = {"training": training.pk, "platform": platform.pk, "sku": "PIN-1", "url": "https://pintaria.example/p/1",
            "price": "500000", "is_available": "on"}  # fmt: skip
    response = client.post(reverse("admin:marketplace_listing_add"), data)
    assert response.status_code == 200  # above the training's price: a form error
    assert not Listing.objects.exists()
    response = client.post(reverse("admin:marketplace_listing_add"), data | {"price": "400000"})
    assert response.status_code == 302
    listing = Listing.objects.get()
    created = AuditEntry.objects.get(action="marketplace.listing.created")
    assert created.data == {"price": 400_000, "platform": "pintaria", "sku": "PIN-1", "is_available": True}

    change = {"sku": "PIN-2", "url": "https://pintaria.example/p/2", "price": "350000", "is_available": ""}
    assert (
        client.post(reverse("admin:marketplace_listing_change", args=[listing.pk]), change).status_code == 302
    )
    listing.refresh_from_db()
    assert (listing.sku, listing.url, listing.price, listing.is_available) == (
        "PIN-2", "https://pintaria.example/p/2", 350_000, False,
    )  # fmt: skip
    updated = AuditEntry.objects.get(action="marketplace.listing.updated")
    assert updated.data["changes"] == {
        "price": [400_000, 350_000],
        "is_available": [True, False],
        "url": ["https://pintaria.example/p/1", "https://pintaria.example/p/2"],
        "sku": ["PIN-1", "PIN-2"],
    }


def test_console_training_edit_goes_through_the_service(client):
    training = TrainingFactory(status=TrainingStatus.DRAFT, price=300_000)
    client.force_login(officer())
    page = client.get(reverse("admin:marketplace_training_change", args=[training.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    data["price"] = "350000"
    response = client.post(reverse("admin:marketplace_training_change", args=[training.pk]), data)
    assert response.status_code == 302
    training.refresh_from_db()
    assert training.price == 350_000
    entry = AuditEntry.objects.get(action="marketplace.training.changed")
    assert entry.data == {"changes": {"price": ["300000", "350000"]}}


@pytest.mark.parametrize("kind", ["training", "listing"])
def test_roles_without_the_permission_get_403_on_the_import(client, kind):
    for role in (Role.KYC_REVIEWER, Role.FINANCE_OFFICER):
        client.force_login(officer(role))
        assert client.get(reverse(f"admin:marketplace_{kind}_import")).status_code == 403


def provider_post(provider, **changes):
    data = {
        "legal_name": provider.legal_name, "brand_name": "", "nib": provider.nib, "description": "", "website": "",
        "address": provider.address, "district": provider.district_id, "contact_name": provider.contact_name,
        "contact_email": provider.contact_email, "contact_phone": provider.contact_phone,
        "documents-TOTAL_FORMS": "0", "documents-INITIAL_FORMS": "0",
        "affiliations-TOTAL_FORMS": "0", "affiliations-INITIAL_FORMS": "0",
    }  # fmt: skip
    return data | changes


def test_console_provider_details_go_through_the_service_and_a_decided_nib_stays(client):
    provider = ProviderFactory(nib="1111222233334")
    client.force_login(officer())
    url = reverse("admin:marketplace_provider_change", args=[provider.pk])
    assert client.post(url, provider_post(provider, contact_phone="+6281111111111")).status_code == 302
    entry = AuditEntry.objects.get(action="marketplace.provider.details_changed")
    assert entry.data == {"changes": {"contact_phone": ["+6281234567890", "+6281111111111"]}}
    response = client.post(url, provider_post(provider, nib="9999888877776"), follow=True)
    assert "NIB lembaga yang sudah diputuskan tidak dapat diubah." in response.content.decode()
    provider.refresh_from_db()
    assert provider.nib == "1111222233334"


def test_console_platform_settings_go_through_the_service(client):
    platform = PlatformFactory(slug="pintaria", name="Pintaria")
    client.force_login(officer())
    reauthenticate(
        client
    )  # the platform screen sets where secrets go: password again (RecentAuthRequiredMixin)
    data = {"name": "Pintaria", "slug": "pintaria", "active": "", "website": "", "contact_name": "",
            "contact_email": "", "contact_phone": "", "webhook_url": "",
            "credentials-TOTAL_FORMS": "0", "credentials-INITIAL_FORMS": "0"}  # fmt: skip
    response = client.post(reverse("admin:marketplace_platform_change", args=[platform.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    platform.refresh_from_db()
    assert platform.active is False
    entry = AuditEntry.objects.get(action="marketplace.platform.changed")
    assert entry.data == {"changes": {"active": ["True", "False"]}}


def test_a_training_that_went_to_review_meanwhile_is_refused_with_a_message(client, monkeypatch):
    training = TrainingFactory(status=TrainingStatus.DRAFT, price=300_000)
    client.force_login(officer())
    url = reverse("admin:marketplace_training_change", args=[training.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)

    def in_review(**kwargs):
        raise TransitionNotAllowed("Pelatihan ini sekarang sedang ditinjau; muat ulang halaman.")

    monkeypatch.setattr(services, "training_draft_save", in_review)
    response = client.post(url, data | {"price": "350000"}, follow=True)
    assert response.status_code == 200
    assert "sedang ditinjau" in response.content.decode()
    training.refresh_from_db()
    assert training.price == 300_000
