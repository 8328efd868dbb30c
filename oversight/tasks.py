import logging

from celery import shared_task

from oversight import services

logger = logging.getLogger(__name__)


@shared_task(name="oversight.complaints_escalate_overdue", ignore_result=True)
def complaints_escalate_overdue_task() -> None:
    escalated = services.complaints_escalate_overdue()
    if escalated:
        logger.info("complaints escalated past their service level: %s", escalated)
