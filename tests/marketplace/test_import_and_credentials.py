import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from marketplace.credentials import secret_decrypt
from marketplace.models import ApiIdempotencyRecord, ApiNonce, PlatformCredential
from marketplace.services import api_records_cleanup
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.factories import UserFactory, reauthenticate
from tests.marketplace.factories import PlatformFactory

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
