from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    """Work that spans every app, at the top of the chain: complaints about any step of the lifecycle."""

    name = "oversight"
    verbose_name = _("Complaints and oversight")
    default_auto_field = "django.db.models.BigAutoField"
