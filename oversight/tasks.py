import logging

from celery import shared_task

from oversight import services

logger = logging.getLogger(__name__)


@shared_task(name="oversight.complaints_escalate_overdue", ignore_result=True)
def complaints_escalate_overdue_task() -> None:
    escalated = services.complaints_escalate_overdue()
    if escalated:
        logger.info("complaints escalated past their service level: %s", escalated)


@shared_task(name="oversight.summary_refresh", ignore_result=True)
def summary_refresh_task() -> None:
    from oversight.summary import summary_refresh  # loads every app's models; only the worker needs it

    rows = summary_refresh()
    logger.info("programme summary refreshed: %s numbers", rows)
