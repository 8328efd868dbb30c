from django.core.management.base import BaseCommand

from kyc.services import kyc_face_index_update


class Command(BaseCommand):
    help = (
        "Add the faces verified since the last update to the shared duplicate-face index "
        "(KYC_FACE_INDEX_DIR); --rebuild starts it again from every verified face."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, rebuild: bool, **options):
        result = kyc_face_index_update(rebuild=rebuild)
        if result.get("skipped"):
            self.stdout.write("another update is running; nothing done")
        else:
            self.stdout.write(
                f"added {result['added']} faces; {result['segments']} segments up to face id {result['last_id']}"
            )
