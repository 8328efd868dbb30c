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
        from cohorts.services import programme_get
        from registration.kemnaker import offline_approval_rule_register

        offline_approval_rule_register(lambda: programme_get().offline_approval_required)
