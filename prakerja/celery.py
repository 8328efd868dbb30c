import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")

app = Celery("prakerja")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["disbursement.gateway"])  # disbursement.gateway.tasks


@setup_logging.connect
def _logging_from_django_settings(loglevel=None, **kwargs) -> None:
    """Workers and beat log through settings.LOGGING, not Celery's own handlers.

    Celery would otherwise replace the root logger's handlers and with them the
    filter that masks NIK and KK numbers (prakerja.logging.RedactPersonalData).
    ``--loglevel`` still sets the level of Celery's own messages; the portal's
    follow LOG_LEVEL.
    """
    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)
