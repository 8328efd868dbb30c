"""Training providers: the public application and the officers' decisions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.catalog_cache import catalog_version_bump
from marketplace.documents import document_check, file_sha256, safe_display_name
from marketplace.enums import REQUIRED_DOCUMENTS, ProviderStatus
from marketplace.exceptions import NibTaken, TransitionNotAllowed
from marketplace.models import Provider, ProviderAffiliation, ProviderDocument
from prakerja.audit import audit_log
from prakerja.enums import NotificationChannel
from prakerja.notifications import notification_queue, render_message

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderApplication:
    legal_name: str
    nib: str
    address: str
    district_code: str
    contact_name: str
    contact_email: str
    contact_phone: str
    brand_name: str = ""
    description: str = ""
    website: str = ""


@dataclass(frozen=True)
class DocumentUpload:
    kind: str
    file: File
    name: str


@dataclass(frozen=True)
class DeclaredAffiliation:
    platform_id: int
    relationship: str


def _email_provider(*, provider: Provider, template: str, key: str) -> None:
    subject, body, _sms = render_message(
        template,
        {
            "provider": provider,
            "site_url": settings.SITE_URL,
            "contact_email": settings.PROGRAMME_CONTACT_EMAIL,
        },
        language="id",
    )
    notification_queue(
        channel=NotificationChannel.EMAIL,
        recipient=provider.contact_email,
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        idempotency_key=f"marketplace:provider:{provider.pk}:{key}",
    )


def provider_apply(
    *,
    application: ProviderApplication,
    documents: Sequence[DocumentUpload],
    affiliations: Sequence[DeclaredAffiliation] = (),
) -> Provider:
    """Record a provider's application with its documents; officers review it in the console."""
    kinds = {document.kind for document in documents}
    missing = [kind for kind in REQUIRED_DOCUMENTS if kind not in kinds]
    if missing:
        raise ValidationError(
            _("Every application needs a curriculum, syllabus, trainer qualifications and evaluation method.")
        )
    checked = [(document, *document_check(document.file)) for document in documents]

    written: list[ProviderDocument] = []
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    provider = Provider.objects.create(
                        legal_name=application.legal_name,
                        brand_name=application.brand_name,
                        nib=application.nib,
                        description=application.description,
                        address=application.address,
                        district_id=application.district_code,
                        contact_name=application.contact_name,
                        contact_email=application.contact_email,
                        contact_phone=application.contact_phone,
                        website=application.website,
                    )
            except IntegrityError as exc:
                raise NibTaken(
                    _("An institution with this NIB is already registered or being reviewed."),
                ) from exc
            for document, content_type, extension in checked:
                row = ProviderDocument(
                    provider=provider,
                    kind=document.kind,
                    original_name=safe_display_name(document.name),
                    content_type=content_type,
                    size=document.file.size,
                    sha256=file_sha256(document.file),
                )
                row.file.save(f"document{extension}", document.file, save=False)
                written.append(row)
                row.save()
            ProviderAffiliation.objects.bulk_create(
                [
                    ProviderAffiliation(
                        provider=provider, platform_id=item.platform_id, relationship=item.relationship[:200]
                    )
                    for item in affiliations
                ]
            )
            audit_log(
                actor=None,
                action="marketplace.provider.applied",
                obj=provider,
                data={
                    "nib": provider.nib,
                    "documents": sorted(kinds),
                    "declared_affiliations": [item.platform_id for item in affiliations],
                },
            )
            _email_provider(provider=provider, template="marketplace_provider_received", key="received")
    except BaseException:
        # The database rolled back; do not leave orphaned files behind.
        for row in written:
            if row.file.name:
                row.file.storage.delete(row.file.name)
        raise
    return provider


def _provider_move(
    *, provider_id: int, source: str, target: str, actor, reason: str, action: str
) -> Provider:
    now = timezone.now()
    with transaction.atomic():
        moved = Provider.objects.filter(pk=provider_id, status=source).update(
            status=target, status_reason=reason, decided_at=now, decided_by=actor
        )
        if not moved:
            raise TransitionNotAllowed(
                _("This provider is no longer %(status)s; reload the page to see its current status.")
                % {"status": ProviderStatus(source).label.lower()}
            )
        catalog_version_bump()
        provider = Provider.objects.get(pk=provider_id)
        audit_log(
            actor=actor,
            action=f"marketplace.provider.{action}",
            obj=provider,
            data={"from": source, "to": target, "reason": reason},
        )
        _email_provider(
            provider=provider,
            template="marketplace_provider_decision",
            key=f"{action}:{now.timestamp():.0f}",
        )
    return provider


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Write the reason; the provider will read it."))
    return reason


def provider_verify(*, provider_id: int, actor, reason: str = "") -> Provider:
    """Applied -> verified: the provider's approved trainings may now be listed."""
    return _provider_move(
        provider_id=provider_id,
        source=ProviderStatus.APPLIED,
        target=ProviderStatus.VERIFIED,
        actor=actor,
        reason=(reason or "").strip(),
        action="verified",
    )


def provider_reject(*, provider_id: int, actor, reason: str) -> Provider:
    """Applied -> rejected, with a reason the provider reads. The NIB may apply again."""
    return _provider_move(
        provider_id=provider_id,
        source=ProviderStatus.APPLIED,
        target=ProviderStatus.REJECTED,
        actor=actor,
        reason=_require_reason(reason),
        action="rejected",
    )


def provider_suspend(*, provider_id: int, actor, reason: str) -> Provider:
    """Verified -> suspended: every training of the provider leaves the catalog at once."""
    return _provider_move(
        provider_id=provider_id,
        source=ProviderStatus.VERIFIED,
        target=ProviderStatus.SUSPENDED,
        actor=actor,
        reason=_require_reason(reason),
        action="suspended",
    )


def provider_reinstate(*, provider_id: int, actor, reason: str) -> Provider:
    """Suspended -> verified."""
    return _provider_move(
        provider_id=provider_id,
        source=ProviderStatus.SUSPENDED,
        target=ProviderStatus.VERIFIED,
        actor=actor,
        reason=_require_reason(reason),
        action="reinstated",
    )


def provider_affiliation_record(
    *, provider_id: int, platform_id: int, relationship: str, actor
) -> ProviderAffiliation:
    """Record (or correct) that a provider is affiliated with a platform. Audited."""
    relationship = _require_reason(relationship)[:200]
    with transaction.atomic():
        affiliation, created = ProviderAffiliation.objects.update_or_create(
            provider_id=provider_id, platform_id=platform_id, defaults={"relationship": relationship}
        )
        catalog_version_bump()
        audit_log(
            actor=actor,
            action="marketplace.provider.affiliation_recorded",
            obj=affiliation.provider,
            data={"platform_id": platform_id, "relationship": relationship, "new": created},
        )
    return affiliation


def provider_affiliation_remove(*, affiliation_id: int, actor) -> None:
    with transaction.atomic():
        affiliation = ProviderAffiliation.objects.select_related("provider").filter(pk=affiliation_id).first()
        if affiliation is None:
            return
        audit_log(
            actor=actor,
            action="marketplace.provider.affiliation_removed",
            obj=affiliation.provider,
            data={"platform_id": affiliation.platform_id, "relationship": affiliation.relationship},
        )
        affiliation.delete()
        catalog_version_bump()


STASH_FOLDER = "provider-uploads"
STASH_MAX_AGE_SECONDS = 6 * 3600


def provider_upload_stash_cleanup(*, now=None) -> int:
    """Delete files kept from application forms that were never completed. Returns how many."""
    now = now or timezone.now()
    try:
        _folders, names = default_storage.listdir(STASH_FOLDER)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in names:
        path = f"{STASH_FOLDER}/{name}"
        try:
            modified = default_storage.get_modified_time(path)
        except (FileNotFoundError, NotImplementedError):
            continue
        if (now - modified).total_seconds() > STASH_MAX_AGE_SECONDS:
            default_storage.delete(path)
            deleted += 1
    return deleted


PROVIDER_DETAIL_FIELDS = (
    "legal_name", "brand_name", "nib", "description", "website", "address", "district_id",
    "contact_name", "contact_email", "contact_phone",
)  # fmt: skip


def provider_details_set(*, provider_id: int, actor, **fields) -> Provider:
    """Correct a provider's details from the console (locked, validated); audited before/after.

    The NIB is what the documents were checked against: it cannot change once the
    provider is verified (NibTaken for one in use by another provider).
    """
    unknown = set(fields) - set(PROVIDER_DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"unknown provider fields: {sorted(unknown)}")
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider_id)
        changes = {
            name: [str(getattr(provider, name)), str(value)]
            for name, value in fields.items()
            if getattr(provider, name) != value
        }
        if not changes:
            return provider
        if "nib" in changes:
            if provider.status != ProviderStatus.APPLIED:
                raise TransitionNotAllowed(_("The NIB of a provider that was decided on cannot be changed."))
            if Provider.objects.filter(nib=fields["nib"]).exclude(pk=provider.pk).exists():
                raise NibTaken(_("An institution with this NIB is already registered or being reviewed."))
        for name in changes:
            setattr(provider, name, fields[name])
        provider.full_clean(exclude=["status", "decided_by"])
        provider.save()
        catalog_version_bump()
        audit_log(
            actor=actor,
            action="marketplace.provider.details_changed",
            obj=provider,
            data={"changes": changes},
        )
    return provider
