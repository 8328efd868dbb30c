import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


def face_models_preload(**kwargs) -> None:
    """Load the face models when a Celery worker starts, not on the first upload it handles.

    ``worker_init`` runs in the worker's main process before its pool starts: a solo pool uses the
    models from there and a prefork pool's children inherit them. Loading takes seconds; without this
    the first applicant after every worker start waited for it.
    """
    from kyc import engine

    if engine._models is not None:
        return
    try:
        engine.face_models()
    except Exception:  # noqa: BLE001 - a worker without models still starts; the first check loads them
        logger.exception("kyc: could not load the face models at worker start")
        return
    logger.info("kyc: face models loaded at worker start")


class KycConfig(AppConfig):
    name = "kyc"
    verbose_name = _("Identity verification (KYC)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_init, worker_process_init

        worker_init.connect(face_models_preload, weak=False, dispatch_uid="kyc.face_models_preload")
        # A prefork child started later (max-tasks-per-child) loads them before its first task too.
        worker_process_init.connect(
            face_models_preload, weak=False, dispatch_uid="kyc.face_models_preload_child"
        )
