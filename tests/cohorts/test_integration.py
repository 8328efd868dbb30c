"""Waves through real processes: a Celery worker on Redis + PostgreSQL, and Chromium."""

import re

import pytest
from django.db import transaction

from cohorts import services
from cohorts.enums import RunKind, RunStatus, WaveStatus
from cohorts.models import Participant, SelectionRun
from prakerja.models import Notification
from tests.cohorts.factories import WaveFactory, pool, programme, verified_applicant
from tests.conftest import wait_until


def _run_and_wait(wave, kind, worker, seed=""):
    with transaction.atomic():
        run = services.selection_run_request(wave=wave, kind=kind, seed=seed)
    wait_until(
        lambda: SelectionRun.objects.get(pk=run.pk).status in (RunStatus.DONE, RunStatus.FAILED),
        message=f"the worker to finish {kind}\n{worker.output}",
    )
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    return run


@pytest.mark.worker
def test_selection_announcement_and_notifications_through_a_real_worker(celery_worker):
    from prakerja.notifications import notifications_sweep

    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=3)
    pool(wave, district_code="32.75.01", count=5)
    run = _run_and_wait(wave, RunKind.SELECTION, celery_worker, seed="pekerja")
    assert (run.result["pool"], run.result["selected"]) == (5, 3)
    run = _run_and_wait(wave, RunKind.ANNOUNCEMENT, celery_worker)
    assert run.result["participants_created"] == 3
    assert Participant.objects.filter(wave=wave).count() == 3
    assert "cohorts.selection_run" in celery_worker.output
    # The announcement queued the notification job, which the worker ran too.
    wait_until(
        lambda: SelectionRun.objects.filter(wave=wave, kind=RunKind.NOTIFY, status=RunStatus.DONE).exists(),
        message=f"the notification job\n{celery_worker.output}",
    )

    # Beat's sweeper hands the outbox to the worker, which sends everything.
    assert notifications_sweep()["enqueued"] == 10
    wave_notes = Notification.objects.filter(idempotency_key__startswith=f"cohorts.wave:{wave.pk}:")
    wait_until(
        lambda: wave_notes.filter(status="sent").count() == 10,
        message=f"the outbox to be sent\n{celery_worker.output}",
    )


@pytest.mark.browser
def test_applicant_joins_waits_and_sees_card_and_balance(page, live_server):
    programme()
    wave = WaveFactory(name="Gelombang Uji", total_quota=5)
    applicant = verified_applicant(full_name="Siti Rahayu")
    applicant.user.set_password("rahasia-panjang-2026")
    applicant.user.save()

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(applicant.user.email)
    page.get_by_label("Kata sandi").fill("rahasia-panjang-2026")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    page.get_by_role("link", name="Gabung gelombang ini").first.click()
    page.wait_for_url(re.compile(r"/gelombang/$"))
    page.get_by_role("button", name="Gabung gelombang ini").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    assert page.locator('[data-step="wave"]').get_by_text("Menunggu gelombang ditutup").is_visible()

    # The officer closes the wave, runs the selection and announces (tasks run in-process here).
    services.wave_close(wave=wave)
    for kind in (RunKind.SELECTION, RunKind.ANNOUNCEMENT):
        run = services.selection_run_request(wave=wave, kind=kind, seed="uji")
        services.selection_run_execute(run_id=run.pk)

    page.reload()
    participant = Participant.objects.get(applicant=applicant)
    card = page.locator("[data-card-number]")
    assert card.inner_text() == participant.formatted_card_number
    assert page.locator("[data-balance]").inner_text() == "Rp1.000.000"
    assert page.get_by_text("Siti Rahayu").first.is_visible()
