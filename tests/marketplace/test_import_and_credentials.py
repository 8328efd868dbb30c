import datetime

import pytest
import tablib
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from marketplace.credentials import secret_decrypt
from marketplace.enums import TrainingStatus
from marketplace.models import ApiIdempotencyRecord, ApiNonce, Listing, PlatformCredential, Training
from marketplace.resources import ListingResource, TrainingResource
from marketplace.services import api_records_cleanup
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.factories import UserFactory, reauthenticate
from tests.marketplace.factories import ListingFactory, PlatformFactory, ProviderFactory, TrainingFactory

pytestmark = pytest.mark.django_db

TRAINING_HEADERS = [
    "id",
    "provider_nib",
    "title",
    "description",
    "category",
    "level",
    "mode",
    "duration_hours",
    "price",
    "address",
    "district_code",
    "latitude",
    "longitude",
]


def officer(role=Role.PROGRAMME_OFFICER):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def training_row(nib, **overrides):
    row = {
        "id": "",
        "provider_nib": nib,
        "title": "Menjahit Busana Muslim",
        "description": "Pola, potong, jahit.",
        "category": "beauty",
        "level": "basic",
        "mode": "offline",
        "duration_hours": "24",
        "price": "450000",
        "address": "Jl. Melati 3",
        "district_code": "32.75.02",
        "latitude": "-6.2383",
        "longitude": "106.9756",
    }
    row.update(overrides)
    return [row[h] for h in TRAINING_HEADERS]


def test_training_import_dry_run_reports_row_errors_and_saves_nothing():
    provider = ProviderFactory(nib="1111222233334")
    dataset = tablib.Dataset(headers=TRAINING_HEADERS)
    dataset.append(training_row(provider.nib))
    dataset.append(training_row("9999999999999"))
    dataset.append(training_row(provider.nib, price="2000000", title="Terlalu Mahal"))
    dataset.append(training_row(provider.nib, category="astrology", title="Ramalan"))
    result = TrainingResource().import_data(dataset, dry_run=True)
    assert result.has_validation_errors()
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert sorted(invalid) == [2, 3, 4]
    assert invalid[2]["provider"] == ["Tidak ada lembaga terdaftar dengan NIB 9999999999999."]
    assert invalid[3]["price"] == ["Harga tidak boleh lebih dari Rp1.000.000."]
    assert "category" in invalid[4]
    assert not Training.objects.exists()


def test_training_import_creates_drafts_and_is_audited():
    provider = ProviderFactory(nib="1111222233334")
    user = officer()
    dataset = tablib.Dataset(headers=TRAINING_HEADERS)
    dataset.append(training_row(provider.nib))
    dataset.append(
        training_row(
            provider.nib,
            title="Bordir Dasar",
            mode="self_paced",
            address="",
            district_code="",
            latitude="",
            longitude="",
        )
    )
    result = TrainingResource().import_data(dataset, dry_run=False, user=user)
    assert not result.has_errors() and not result.has_validation_errors()
    assert sorted(Training.objects.values_list("title", "status")) == [
        ("Bordir Dasar", TrainingStatus.DRAFT),
        ("Menjahit Busana Muslim", TrainingStatus.DRAFT),
    ]
    entry = AuditEntry.objects.get(action="marketplace.import.trainings")
    assert entry.actor == user
    assert entry.data == {"rows": {"new": 2}}


def test_import_cannot_overwrite_an_approved_training():
    training = TrainingFactory(status=TrainingStatus.APPROVED, title="Asli")
    dataset = tablib.Dataset(headers=TRAINING_HEADERS)
    dataset.append(
        training_row(
            training.provider.nib,
            id=str(training.pk),
            title="Diubah",
            mode="self_paced",
            address="",
            district_code="",
            latitude="",
            longitude="",
        )
    )
    result = TrainingResource().import_data(dataset, dry_run=False)
    assert result.has_validation_errors()
    assert Training.objects.get(pk=training.pk).title == "Asli"


def test_listing_import_updates_by_platform_and_sku_and_checks_the_price_ceiling():
    platform = PlatformFactory(slug="pintaria")
    training = TrainingFactory(price=400_000)
    existing = ListingFactory(platform=platform, training=training, sku="PIN-9", price=400_000)
    other = TrainingFactory(price=200_000)
    dataset = tablib.Dataset(headers=["platform", "sku", "training_id", "url", "price", "is_available"])
    dataset.append(["pintaria", "PIN-9", training.pk, existing.url, 350000, "1"])
    dataset.append(["pintaria", "PIN-10", other.pk, "https://pintaria.example/p/10", 250000, "1"])
    dataset.append(["nope", "X-1", other.pk, "https://x.example/1", 100000, "1"])
    result = ListingResource().import_data(dataset, dry_run=True)
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert invalid[2]["price"] == [
        "Harga tidak boleh lebih dari harga pelatihan yang disetujui, yaitu Rp200.000."
    ]
    # The platform is part of the row's identity, so an unknown one is a row error.
    errors = dict(result.row_errors())
    assert [str(error.error) for error in errors[3]] == [
        "Platform nope tidak dikenal (gunakan nama singkatnya)."
    ]
    fixed = tablib.Dataset(headers=dataset.headers)
    fixed.append(dataset[0])
    fixed.append(["pintaria", "PIN-10", other.pk, "https://pintaria.example/p/10", 199000, "1"])
    result = ListingResource().import_data(fixed, dry_run=False)
    assert not result.has_validation_errors()
    assert Listing.objects.get(pk=existing.pk).price == 350_000
    assert Listing.objects.get(platform=platform, sku="PIN-10").price == 199_000


def test_console_import_shows_a_dry_run_before_saving(client):
    provider = ProviderFactory(nib="1111222233334")
    client.force_login(officer())
    dataset = tablib.Dataset(headers=TRAINING_HEADERS)
    dataset.append(training_row(provider.nib))
    upload = SimpleUploadedFile("pelatihan.csv", dataset.export("csv").encode(), content_type="text/csv")
    response = client.post(
        reverse("admin:marketplace_training_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    assert "Menjahit Busana Muslim" in response.content.decode()
    assert not Training.objects.exists()  # only a preview so far


def test_console_imports_trainings_from_a_spreadsheet(client):
    """Officers' lists usually come as Excel files: the same dry run, then the import, from XLSX."""
    import re

    provider = ProviderFactory(nib="1111222233334")
    client.force_login(officer())
    page = client.get(reverse("admin:marketplace_training_import")).content.decode()
    xlsx = re.search(r'<option value="(\d+)"[^>]*>xlsx</option>', page).group(1)
    dataset = tablib.Dataset(headers=TRAINING_HEADERS)
    dataset.append(training_row(provider.nib, title="Akuntansi UMKM dengan Spreadsheet"))
    dataset.append(training_row("9999999999999", title="Lembaga Tak Dikenal"))
    upload = SimpleUploadedFile("pelatihan.xlsx", dataset.export("xlsx"))
    preview = client.post(
        reverse("admin:marketplace_training_import"), {"import_file": upload, "format": xlsx, "resource": "0"}
    )
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Tidak ada lembaga terdaftar dengan NIB 9999999999999." in body
    assert not Training.objects.exists()

    dataset = tablib.Dataset(headers=TRAINING_HEADERS)
    dataset.append(training_row(provider.nib, title="Akuntansi UMKM dengan Spreadsheet"))
    upload = SimpleUploadedFile("pelatihan.xlsx", dataset.export("xlsx"))
    preview = client.post(
        reverse("admin:marketplace_training_import"), {"import_file": upload, "format": xlsx, "resource": "0"}
    )
    confirm = preview.context["confirm_form"]
    done = client.post(reverse("admin:marketplace_training_process_import"), confirm.initial, follow=True)
    assert done.status_code == 200
    training = Training.objects.get()
    assert (training.title, training.status, training.provider) == (
        "Akuntansi UMKM dengan Spreadsheet",
        TrainingStatus.DRAFT,
        provider,
    )


def test_issued_secret_is_shown_once_and_stored_encrypted(client):
    platform = PlatformFactory(slug="sekolahmu", name="Sekolahmu")
    user = officer()
    client.force_login(user)
    reauthenticate(client)
    response = client.post(
        reverse("admin:marketplace_platform_changelist"),
        {"action": "issue_credentials", "_selected_action": [platform.pk]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    credential = PlatformCredential.objects.get(platform=platform)
    secret = secret_decrypt(credential.secret_encrypted)
    html = response.content.decode()
    assert secret in html and credential.key_id in html
    assert secret not in credential.secret_encrypted
    # The platform page afterwards shows only the last characters.
    page = client.get(reverse("admin:marketplace_platform_change", args=[platform.pk])).content.decode()
    assert secret not in page
    assert credential.secret_hint in page
    entry = AuditEntry.objects.get(action="marketplace.platform.credential_issued")
    assert entry.actor == user
    assert secret not in str(entry.data)


def test_only_officers_with_permission_rotate_credentials(client):
    platform = PlatformFactory()
    client.force_login(officer(Role.FINANCE_OFFICER))
    reauthenticate(client)
    response = client.post(
        reverse("admin:marketplace_platform_changelist"),
        {"action": "issue_credentials", "_selected_action": [platform.pk]},
    )
    assert response.status_code in (302, 403)
    assert not PlatformCredential.objects.exists()


def test_revoke_ends_every_credential_now(client):
    from tests.marketplace.factories import credential_for

    platform = PlatformFactory()
    credential_for(platform)
    credential_for(platform)
    client.force_login(officer())
    reauthenticate(client)
    client.post(
        reverse("admin:marketplace_platform_changelist"),
        {"action": "revoke_credentials", "_selected_action": [platform.pk]},
    )
    now = timezone.now()
    assert not any(c.is_valid(now) for c in PlatformCredential.objects.filter(platform=platform))


def test_cleanup_forgets_old_nonces_and_idempotency_records(settings):
    platform = PlatformFactory()
    now = timezone.now()
    ApiNonce.objects.create(
        platform=platform, nonce="old-nonce-0000001", created_at=now - datetime.timedelta(minutes=20)
    )
    ApiNonce.objects.create(
        platform=platform, nonce="new-nonce-0000001", created_at=now - datetime.timedelta(minutes=5)
    )
    for key, age in (("old-key-1", 49), ("new-key-1", 1)):
        ApiIdempotencyRecord.objects.create(
            platform=platform,
            key=key,
            request_hash="x",
            method="PATCH",
            path="/",
            status_code=200,
            response_body=b"{}",
            created_at=now - datetime.timedelta(hours=age),
        )
    assert api_records_cleanup(now=now) == {"nonces": 1, "idempotency_records": 1}
    assert list(ApiNonce.objects.values_list("nonce", flat=True)) == ["new-nonce-0000001"]
    assert list(ApiIdempotencyRecord.objects.values_list("key", flat=True)) == ["new-key-1"]


def test_cleanup_task_is_scheduled(settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["marketplace-api-cleanup"]["task"] == "marketplace.api_records_cleanup"
    )
    from marketplace.tasks import api_records_cleanup_task

    assert api_records_cleanup_task.name == "marketplace.api_records_cleanup"
    api_records_cleanup_task.delay()
