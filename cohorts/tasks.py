import logging

from celery import shared_task

from cohorts import draw, services

logger = logging.getLogger(__name__)


@shared_task(name="cohorts.selection_run", ignore_result=True, acks_late=True)
def selection_run_task(run_id: int) -> None:
    run = services.selection_run_execute(run_id=run_id)
    if run is None:
        logger.info("selection run %s was not queued (already started or gone)", run_id)


@shared_task(name="cohorts.waves_close_due", ignore_result=True)
def waves_close_due_task() -> None:
    services.waves_close_due()


@shared_task(name="cohorts.participants_revoke_expired", ignore_result=True)
def participants_revoke_expired_task() -> None:
    result = services.participants_revoke_expired()
    if result["revoked"]:
        logger.info("deadline revocation: %s", result)


@shared_task(name="cohorts.programme_end_forfeit", ignore_result=True)
def programme_end_forfeit_task() -> None:
    result = services.programme_end_forfeit()
    if result["forfeited_accounts"]:
        logger.info("programme end forfeit: %s", result)


@shared_task(name="cohorts.draw_file_build", ignore_result=True)
def draw_file_build_task(wave_id: int) -> None:
    built = draw.draw_file_build(wave_id=wave_id)
    if built:
        logger.info("draw file of wave %s: %s lines, sha256 %s", wave_id, built.lines, built.sha256)


@shared_task(name="cohorts.selection_runs_sweep", ignore_result=True)
def selection_runs_sweep_task() -> None:
    sent = services.selection_runs_sweep()
    if sent:
        logger.info("selection runs sent again: %s", sent)
