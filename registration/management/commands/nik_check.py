import json

from django.core.management.base import BaseCommand

from registration.nik import nik_parse


class Command(BaseCommand):
    help = (
        'Check a NIK against the NIK rules and print one JSON object: {"valid", "errors", "province", '
        '"regency", "district", "birth_date", "gender"}. Errors are stable codes.'
    )

    def add_arguments(self, parser):
        parser.add_argument("nik")

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(nik_parse(options["nik"]).as_dict(), ensure_ascii=False))
