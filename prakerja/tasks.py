import logging

from celery import shared_task

from prakerja.notifications import notification_send, notifications_sweep
from prakerja.otp import otp_purge

logger = logging.getLogger(__name__)


@shared_task(name="prakerja.notifications_send_batch", ignore_result=True)
def notifications_send_batch(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        notification_send(notification_id=notification_id)


@shared_task(name="prakerja.notifications_sweep", ignore_result=True)
def notifications_sweep_task() -> None:
    result = notifications_sweep()
    if any(result.values()):
        logger.info("notifications sweep: %s", result)


@shared_task(name="prakerja.otp_purge", ignore_result=True)
def otp_purge_task() -> None:
    deleted = otp_purge()
    if deleted:
        logger.info("one-time codes purged: %s", deleted)


@shared_task(name="prakerja.sessions_clear", ignore_result=True)
def sessions_clear_task() -> None:
    """Delete expired sessions (they live in the database), like ``manage.py clearsessions``."""
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
