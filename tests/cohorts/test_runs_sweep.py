"""A selection requested while the broker is down is not an error; the sweeper sends it later."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from cohorts import services
from cohorts.enums import RunKind, RunStatus, WaveStatus
from cohorts.models import SelectionRun
from cohorts.tasks import selection_run_task
from tests.cohorts.factories import WaveFactory, pool, programme

pytestmark = pytest.mark.django_db


def test_a_run_requested_with_the_broker_down_is_swept_later(django_capture_on_commit_callbacks):
    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=2)
    pool(wave, district_code="32.75.01", count=3)
    with (
        mock.patch.object(selection_run_task, "delay", side_effect=OperationalError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = services.selection_run_request(wave=wave, kind=RunKind.DRY_RUN)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    # Not yet stale: nothing is sent again.
    assert services.selection_runs_sweep() == 0
    later = timezone.now() + datetime.timedelta(minutes=3)
    with mock.patch.object(selection_run_task, "delay", side_effect=OperationalError("still down")):
        assert services.selection_runs_sweep(now=later) == 0
    assert services.selection_runs_sweep(now=later) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert SelectionRun.objects.filter(status=RunStatus.QUEUED).count() == 0
