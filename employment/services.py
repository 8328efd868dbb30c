"""Every write of the employment app: job profiles and consents, job platforms and their
credentials, and what platforms send (openings, outcomes)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorts.models import Participant
from employment.credentials import secret_encrypt
from employment.exceptions import EmploymentError
from employment.models import (
    JobApiNonce,
    JobOpening,
    JobOutcome,
    JobPlatform,
    JobPlatformCredential,
    JobProfile,
    JobSharingConsent,
)
from marketplace.credentials import new_key_id, new_secret
from marketplace.selectors import participant_has_completion
from prakerja.audit import audit_log, field_changes_apply

SUMMARY_MAX = 600


# --- Participants: profile and consent --------------------------------------------------------


def job_profile_eligible(*, participant: Participant | None) -> bool:
    """Only participants who completed a training may share a job profile."""
    return participant is not None and participant_has_completion(participant_id=participant.pk)


def job_profile_save(*, participant: Participant, summary: str) -> JobProfile:
    """Create or update the participant's job profile (the summary they write)."""
    if not job_profile_eligible(participant=participant):
        raise EmploymentError(
            _("A job profile can be shared after you complete a training."), code="not_eligible"
        )
    summary = (summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        raise EmploymentError(
            _("The summary can be at most %(max)d characters.") % {"max": SUMMARY_MAX},
            code="summary_too_long",
        )
    with transaction.atomic():
        profile, created = JobProfile.objects.select_for_update().get_or_create(
            participant=participant, defaults={"summary": summary}
        )
        if not created and profile.summary != summary:
            profile.summary = summary
            profile.updated_at = timezone.now()
            profile.save(update_fields=["summary", "updated_at"])
    return profile


def job_sharing_set(*, profile: JobProfile, platform_ids: set[int], consent_given: bool, actor) -> dict:
    """Share the profile with exactly ``platform_ids`` (active platforms); withdraw the others at once.

    A new platform needs ``consent_given`` (the person ticked the consent text); each grant
    records the text version and the time, each withdrawal its time. Audited.
    """
    now = timezone.now()
    with transaction.atomic():
        JobProfile.objects.select_for_update().get(pk=profile.pk)
        active = {
            consent.platform_id: consent
            for consent in JobSharingConsent.objects.filter(profile=profile, withdrawn_at__isnull=True)
        }
        wanted = set(
            JobPlatform.objects.filter(pk__in=platform_ids, active=True).values_list("pk", flat=True)
        )
        new = wanted - set(active)
        if new and not consent_given:
            raise EmploymentError(
                _("Tick the consent to share your job profile with the platforms you chose."),
                code="consent_missing",
            )
        withdrawn = [pk for pk in active if pk not in wanted]
        JobSharingConsent.objects.filter(
            profile=profile, platform_id__in=withdrawn, withdrawn_at__isnull=True
        ).update(withdrawn_at=now)
        for platform_id in sorted(new):
            JobSharingConsent.objects.create(
                profile=profile,
                platform_id=platform_id,
                text_version=settings.EMPLOYMENT_CONSENT_VERSION,
                granted_at=now,
            )
        if new or withdrawn:
            audit_log(
                actor=actor,
                action="employment.consent_changed",
                obj=profile,
                data={
                    "granted": sorted(new),
                    "withdrawn": sorted(withdrawn),
                    "text_version": settings.EMPLOYMENT_CONSENT_VERSION,
                },
            )
    return {"granted": sorted(new), "withdrawn": sorted(withdrawn)}


# --- Job platforms (console) --------------------------------------------------------------------

JOB_PLATFORM_FIELDS = ("name", "slug", "active", "website", "description", "contact_email")


def job_platform_save(*, platform_id: int | None, actor, **fields) -> JobPlatform:
    """Create a job platform or change its settings (validated, audited before/after)."""
    unknown = set(fields) - set(JOB_PLATFORM_FIELDS)
    if unknown:
        raise TypeError(f"unknown job platform fields: {sorted(unknown)}")
    with transaction.atomic():
        platform = (
            JobPlatform()
            if platform_id is None
            else JobPlatform.objects.select_for_update().get(pk=platform_id)
        )
        changes = field_changes_apply(platform, fields)
        if not changes and platform_id is not None:
            return platform
        platform.full_clean()
        platform.save()
        audit_log(
            actor=actor,
            action="employment.platform.created" if platform_id is None else "employment.platform.changed",
            obj=platform,
            data={"changes": changes},
        )
    return platform


@dataclass(frozen=True)
class IssuedJobCredential:
    credential: JobPlatformCredential
    secret: str  # shown to the officer once, never stored in clear and never logged


def job_platform_credential_issue(
    *, platform_id: int, actor, grace_hours: int | None = None
) -> IssuedJobCredential:
    """A new key id + secret; earlier credentials expire after the grace period."""
    grace = timedelta(
        hours=settings.MARKETPLACE_CREDENTIAL_GRACE_HOURS if grace_hours is None else grace_hours
    )
    now = timezone.now()
    with transaction.atomic():
        platform = JobPlatform.objects.select_for_update().get(pk=platform_id)
        expires_at = now + grace
        expiring = JobPlatformCredential.objects.filter(platform=platform).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=expires_at)
        )
        previous = list(expiring.values_list("key_id", flat=True))
        expiring.update(expires_at=expires_at)
        secret = new_secret()
        credential = JobPlatformCredential.objects.create(
            platform=platform,
            key_id=new_key_id(f"job_{platform.slug}"),
            secret_encrypted=secret_encrypt(secret),
            secret_hint=secret[-4:],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_log(
            actor=actor,
            action="employment.platform.credential_issued",
            obj=platform,
            data={"key_id": credential.key_id, "previous_key_ids": previous},
        )
    return IssuedJobCredential(credential=credential, secret=secret)


def job_platform_credentials_revoke(*, platform_id: int, actor) -> int:
    """End every credential of a job platform now. Returns how many were valid."""
    now = timezone.now()
    with transaction.atomic():
        platform = JobPlatform.objects.select_for_update().get(pk=platform_id)
        valid = JobPlatformCredential.objects.filter(platform=platform).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
        key_ids = list(valid.values_list("key_id", flat=True))
        valid.update(expires_at=now)
        audit_log(
            actor=actor,
            action="employment.platform.credentials_revoked",
            obj=platform,
            data={"key_ids": key_ids},
        )
    return len(key_ids)


def api_nonces_cleanup(*, now=None) -> int:
    """Forget nonces that can no longer be replayed (outside twice the clock window)."""
    now = now or timezone.now()
    before = now - timedelta(seconds=2 * settings.MARKETPLACE_API_MAX_SKEW_SECONDS + 60)
    deleted, _counts = JobApiNonce.objects.filter(created_at__lt=before).delete()
    return deleted


# --- What platforms send ------------------------------------------------------------------------


def shared_profile(*, platform: JobPlatform, public_id) -> JobProfile:
    """The profile ``public_id`` if it is shared with ``platform`` right now.

    Raises ``consent_withdrawn`` when the person shared it with this platform before and has
    withdrawn (the platform must delete what it holds), ``profile_not_found`` otherwise.
    """
    profile = JobProfile.objects.filter(public_id=public_id).first()
    if profile is not None:
        consents = JobSharingConsent.objects.filter(profile=profile, platform=platform)
        if consents.filter(withdrawn_at__isnull=True).exists():
            return profile
        last = consents.exclude(withdrawn_at=None).order_by("-withdrawn_at").first()
        if last is not None:
            raise EmploymentError(
                _("The participant withdrew the consent to share this profile with your platform."),
                code="consent_withdrawn",
                details={"withdrawn_at": last.withdrawn_at.isoformat()},
            )
    raise EmploymentError(_("No profile shared with your platform has this id."), code="profile_not_found")


def opening_receive(
    *,
    platform: JobPlatform,
    public_id,
    external_id: str,
    title: str,
    company: str,
    url: str,
    location: str = "",
    closes_on: datetime.date | None = None,
) -> tuple[JobOpening, bool]:
    """Store (or update, same ``external_id``) an opening a platform sends for one person."""
    with transaction.atomic():
        profile = shared_profile(platform=platform, public_id=public_id)
        opening, created = JobOpening.objects.update_or_create(
            platform=platform,
            profile=profile,
            external_id=external_id,
            defaults={
                "title": title,
                "company": company,
                "url": url,
                "location": location,
                "closes_on": closes_on,
            },
        )
    return opening, created


def outcome_report(
    *,
    platform: JobPlatform,
    public_id,
    kind: str,
    occurred_on: datetime.date,
    job_reference: str,
) -> tuple[JobOutcome, bool]:
    """Record applied / interviewed / hired; the same report again changes nothing."""
    if occurred_on > timezone.localdate():
        raise EmploymentError(
            _("The date cannot be in the future."),
            code="validation_failed",
            details={"occurred_on": [_("The date cannot be in the future.")]},
        )
    with transaction.atomic():
        profile = shared_profile(platform=platform, public_id=public_id)
        opening = JobOpening.objects.filter(
            platform=platform, profile=profile, external_id=job_reference
        ).first()
        try:
            with transaction.atomic():
                outcome = JobOutcome.objects.create(
                    platform=platform,
                    profile=profile,
                    opening=opening,
                    job_reference=job_reference,
                    kind=kind,
                    occurred_on=occurred_on,
                )
        except IntegrityError:
            outcome = JobOutcome.objects.get(
                platform=platform, profile=profile, job_reference=job_reference, kind=kind
            )
            return outcome, False
    return outcome, True
