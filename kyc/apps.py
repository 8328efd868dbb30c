from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KycConfig(AppConfig):
    name = "kyc"
    verbose_name = _("Identity verification (KYC)")
    default_auto_field = "django.db.models.BigAutoField"
