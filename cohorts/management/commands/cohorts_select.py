import json
import time

from django.core.management.base import BaseCommand, CommandError

from cohorts.enums import RunKind, RunStatus
from cohorts.models import SelectionRun, Wave
from cohorts.services import CohortError, selection_run_execute, selection_run_request


class Command(BaseCommand):
    help = (
        "Run the selection of a wave now (or a dry run) and print one JSON object with totals per province "
        "and priority group and the seed used."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wave", type=int, required=True, help="wave number")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="re-apply the lists, compute and print; the wave and its applications are not changed",
        )
        parser.add_argument("--seed", default="", help="seed for the draw (random when omitted)")

    def handle(self, *args, wave, dry_run, seed, **options):
        try:
            wave_obj = Wave.objects.get(number=wave)
        except Wave.DoesNotExist as exc:
            raise CommandError(f"no wave number {wave}") from exc
        kind = RunKind.DRY_RUN if dry_run else RunKind.SELECTION
        try:
            run = selection_run_request(wave=wave_obj, kind=kind, seed=seed)
        except CohortError as exc:
            raise CommandError(str(exc)) from exc
        # With a broker a worker may have claimed it already; run it here if nobody has, else wait.
        selection_run_execute(run_id=run.pk)
        run = SelectionRun.objects.get(pk=run.pk)
        while run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            time.sleep(1)
            run = SelectionRun.objects.get(pk=run.pk)
        if run.status != RunStatus.DONE:
            raise CommandError(f"selection failed: {run.error}")
        self.stdout.write(json.dumps({"wave": wave, "dry_run": dry_run, **run.result}, indent=None))
