import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="surveys.notify_due", ignore_result=True)
def surveys_notify_due_task() -> None:
    from surveys.services import assignments_backfill, surveys_notify_due

    created = assignments_backfill()
    counts = surveys_notify_due()
    if created or any(counts.values()):
        logger.info("surveys: %s windows added, notifications %s", created, counts)
