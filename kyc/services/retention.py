"""Retention: raw photos are deleted a configurable number of days after the decision."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from kyc.enums import CaseStatus
from kyc.models import (
    KycSubmission,
)
from kyc.services.uploads import drafts_purge

logger = logging.getLogger(__name__)


def kyc_photos_purge(*, now=None, batch: int = 500) -> int:
    """Delete the raw photos of submissions decided more than KYC_PHOTO_RETENTION_DAYS ago.

    Photos of a case still waiting for a reviewer (or a worker) stay. The
    encodings and every decision field stay. Returns how many submissions lost
    their photos; also clears upload drafts older than a day.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KYC_PHOTO_RETENTION_DAYS)
    due = (
        KycSubmission.objects.filter(photos_deleted_at__isnull=True, decided_at__lt=cutoff)
        .exclude(case__status__in=[CaseStatus.REVIEW, CaseStatus.PROCESSING])
        .order_by("decided_at")
        .values_list("id", "selfie", "ktp")[:batch]
    )
    purged = 0
    for submission_id, selfie, ktp in due:
        for name in (selfie, ktp):
            if name:
                default_storage.delete(name)
        purged += KycSubmission.objects.filter(id=submission_id, photos_deleted_at__isnull=True).update(
            selfie="", ktp="", photos_deleted_at=now
        )
    drafts_purge(now=now)
    if purged:
        logger.info("kyc retention: deleted the photos of %s submissions", purged)
    return purged
