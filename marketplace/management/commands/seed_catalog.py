from django.core.management.base import BaseCommand
from django.db import transaction

from marketplace.demo import catalog_build


class Command(BaseCommand):
    help = (
        "Fill the catalog with N approved demo trainings on the eight platforms (idempotent; for load tests)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--trainings", type=int, default=300)

    def handle(self, *args, trainings: int, **options):
        with transaction.atomic():
            result = catalog_build(trainings=trainings)
        self.stdout.write(
            f"{result.platforms} platforms, {result.providers} providers, "
            f"{result.trainings} trainings, {result.listings} listings"
        )
