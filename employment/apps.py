from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmploymentConfig(AppConfig):
    name = "employment"
    verbose_name = _("Job platforms")
    default_auto_field = "django.db.models.BigAutoField"
