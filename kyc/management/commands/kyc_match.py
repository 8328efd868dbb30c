import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kyc.engine import EngineConfig, pair_match


class Command(BaseCommand):
    help = (
        "Compare a selfie with a KTP photo using exactly the worker's engine and settings; "
        'print {"verdict", "distance", "reason", "faces_selfie", "faces_ktp"} as JSON.'
    )

    def add_arguments(self, parser):
        parser.add_argument("selfie", type=Path)
        parser.add_argument("ktp", type=Path)

    def handle(self, *args, selfie: Path, ktp: Path, **options):
        config = EngineConfig.from_settings()
        data = []
        for path in (selfie, ktp):
            try:
                with path.open("rb") as handle:
                    # Read one byte past the limit: enough to know the file is too large.
                    data.append(handle.read(config.max_bytes + 1))
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        result = pair_match(data[0], data[1], config=config)
        self.stdout.write(json.dumps(result.summary()))
