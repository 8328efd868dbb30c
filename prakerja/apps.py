from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using="default", **kwargs):
    """After a migrate, give the role groups the permissions listed in roles.py.

    post_migrate is sent once per app; act on the last one, after making sure
    every app's permissions exist.
    """
    configs = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.label != configs[-1].label:
        return
    # Inside the post_migrate handler: these modules need the app registry, not ready at import.
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from prakerja.roles import roles_sync

    for config in configs:
        create_permissions(config, verbosity=0, using=using)
    roles_sync(Group, Permission)


class PrakerjaConfig(AppConfig):
    name = "prakerja"
    verbose_name = _("Portal")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # ready(): the admin site module needs the app registry.
        from django.contrib import admin

        admin.site.site_header = _("Prakerja Officer Console")
        admin.site.site_title = _("Prakerja Officer Console")
        admin.site.index_title = _("Programme administration")
        post_migrate.connect(_sync_roles, dispatch_uid="prakerja.roles_sync")

        from django.contrib.auth.signals import user_logged_in

        from prakerja.security import session_clock_start

        user_logged_in.connect(session_clock_start, dispatch_uid="prakerja.session_clock_start")
