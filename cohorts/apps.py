from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = _("Waves and participants")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # ready(): handlers import models, which need the app registry.
        from cohorts import import_handlers

        import_handlers.register()

        # registration shows and applies the Kemnaker rule, which lives in the programme settings.
        from cohorts.models import Programme
        from registration.kemnaker import offline_approval_rule_register

        def offline_approval_required() -> bool:
            # Read without creating the settings row (its defaults are load_demo's and the console's job).
            value = Programme.objects.filter(pk=1).values_list("offline_approval_required", flat=True).first()
            return True if value is None else value

        offline_approval_rule_register(offline_approval_required)
