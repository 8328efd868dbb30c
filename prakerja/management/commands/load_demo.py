from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins = []
        for config in apps.get_app_configs():
            name = f"{config.name}.demo"
            if find_spec(name) is None:
                continue
            module = import_module(name)
            with transaction.atomic():
                logins.extend(module.demo_load(stdout=self.stdout) or [])
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write("")
        self.stdout.write("Demo logins (password for all: %s):" % (logins[0].password if logins else "-"))
        for login in logins:
            self.stdout.write(f"  {login.email:<34} {login.role}")
