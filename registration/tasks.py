"""Celery tasks: thin wrappers that load ids and call one service each."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from registration import imports, services

logger = logging.getLogger(__name__)


def civil_retry_delay(retries: int) -> int:
    """30 s, 60 s, 120 s, ... (CIVIL_REGISTRY_RETRY_BASE_SECONDS doubling) capped at one hour."""
    return min(settings.CIVIL_REGISTRY_RETRY_BASE_SECONDS * 2**retries, 3600)


@shared_task(bind=True, name="registration.civil_check", ignore_result=True, max_retries=None)
def civil_check_task(self, applicant_id: int) -> None:
    try:
        services.applicant_civil_check(applicant_id=applicant_id)
    except services.CivilRegistryUnavailable as exc:
        if self.request.is_eager:
            # In-process tasks (embedded setup) do not sleep; the sweeper tries again.
            return
        if self.request.retries >= settings.CIVIL_REGISTRY_TASK_RETRIES:
            logger.warning(
                "civil check for applicant %s: retries used up, the sweeper takes over", applicant_id
            )
            return
        raise self.retry(exc=exc, countdown=civil_retry_delay(self.request.retries)) from exc


@shared_task(name="registration.civil_check_sweep", ignore_result=True)
def civil_check_sweep_task() -> None:
    queued = services.civil_check_sweep()
    if queued:
        logger.info("civil check sweep queued %s applicants", queued)


@shared_task(name="registration.screening_apply", ignore_result=True)
def screening_apply_task() -> None:
    counts = services.screening_apply_all()
    logger.info("screening lists applied: %s", counts)


@shared_task(name="registration.import_validate", ignore_result=True, acks_late=True)
def import_validate_task(job_id: int) -> None:
    imports.import_job_validate(job_id=job_id)


@shared_task(name="registration.import_run", ignore_result=True, acks_late=True)
def import_run_task(job_id: int) -> None:
    imports.import_job_run(job_id=job_id)


@shared_task(name="registration.import_sweep", ignore_result=True)
def import_sweep_task() -> None:
    imports.import_jobs_sweep()
