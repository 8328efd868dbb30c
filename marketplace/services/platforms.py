"""Platform API credentials: issue (rotate) and revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.catalog_cache import catalog_version_bump
from marketplace.credentials import new_key_id, new_secret, secret_encrypt
from marketplace.models import ApiIdempotencyRecord, ApiNonce, Platform, PlatformCredential
from marketplace.services.settlements import platform_settlement_account
from prakerja.audit import audit_log, field_changes_apply


@dataclass(frozen=True)
class IssuedCredential:
    credential: PlatformCredential
    # Shown to the officer once, never stored in clear and never logged.
    secret: str


def platform_credential_issue(*, platform_id: int, actor, grace_hours: int | None = None) -> IssuedCredential:
    """Issue a new key id + secret for a platform; earlier credentials expire after ``grace_hours``."""
    grace = timedelta(
        hours=settings.MARKETPLACE_CREDENTIAL_GRACE_HOURS if grace_hours is None else grace_hours
    )
    now = timezone.now()
    with transaction.atomic():
        # One rotation at a time per platform.
        platform = Platform.objects.select_for_update().get(pk=platform_id)
        expires_at = now + grace
        expired = PlatformCredential.objects.filter(platform=platform).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=expires_at)
        )
        previous = list(expired.values_list("key_id", flat=True))
        expired.update(expires_at=expires_at)
        secret = new_secret()
        credential = PlatformCredential.objects.create(
            platform=platform,
            key_id=new_key_id(platform.slug),
            secret_encrypted=secret_encrypt(secret),
            secret_hint=secret[-4:],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_log(
            actor=actor,
            action="marketplace.platform.credential_issued",
            obj=platform,
            data={
                "key_id": credential.key_id,
                "previous_key_ids": previous,
                "previous_valid_until": expires_at.isoformat() if previous else None,
            },
        )
    return IssuedCredential(credential=credential, secret=secret)


def platform_credentials_revoke(*, platform_id: int, actor) -> int:
    """End every credential of a platform now (a leaked secret). Returns how many were valid."""
    now = timezone.now()
    with transaction.atomic():
        platform = Platform.objects.select_for_update().get(pk=platform_id)
        valid = PlatformCredential.objects.filter(platform=platform).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
        key_ids = list(valid.values_list("key_id", flat=True))
        valid.update(expires_at=now)
        audit_log(
            actor=actor,
            action="marketplace.platform.credentials_revoked",
            obj=platform,
            data={"key_ids": key_ids},
        )
    return len(key_ids)


def api_records_cleanup(*, now=None) -> dict[str, int]:
    """Forget nonces that can no longer be replayed and idempotency records past their retention."""
    now = now or timezone.now()
    # A timestamp is accepted for MAX_SKEW either side of the clock, so a nonce
    # can only come back within twice that; keep a margin.
    nonce_before = now - timedelta(seconds=2 * settings.MARKETPLACE_API_MAX_SKEW_SECONDS + 60)
    idempotency_before = now - timedelta(hours=settings.MARKETPLACE_API_IDEMPOTENCY_HOURS)
    nonces, _ = ApiNonce.objects.filter(created_at__lt=nonce_before).delete()
    records, _ = ApiIdempotencyRecord.objects.filter(created_at__lt=idempotency_before).delete()
    return {"nonces": nonces, "idempotency_records": records}


PLATFORM_FIELDS = (
    "name", "slug", "active", "website", "contact_name", "contact_email", "contact_phone", "webhook_url",
)  # fmt: skip


def platform_save(*, platform_id: int | None, actor, **fields) -> Platform:
    """Create a platform or change its settings (locked, validated); audited before/after."""
    unknown = set(fields) - set(PLATFORM_FIELDS)
    if unknown:
        raise TypeError(f"unknown platform fields: {sorted(unknown)}")
    with transaction.atomic():
        platform = (
            Platform() if platform_id is None else Platform.objects.select_for_update().get(pk=platform_id)
        )
        changes = field_changes_apply(platform, fields)
        if not changes and platform_id is not None:
            return platform
        platform.full_clean()
        platform.save()
        platform_settlement_account(platform)  # where its redeemed vouchers are paid (bank set by Finance)
        catalog_version_bump()
        audit_log(
            actor=actor,
            action="marketplace.platform.created" if platform_id is None else "marketplace.platform.changed",
            obj=platform,
            data={"changes": changes},
        )
    return platform
