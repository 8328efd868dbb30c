from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Training marketplace")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # ready(): handlers import models, which need the app registry.
        from marketplace import import_handlers

        import_handlers.register()
