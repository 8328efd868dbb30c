from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from prakerja.enums import NotificationChannel
from prakerja.notifications import notification_queue


@dataclass(frozen=True)
class PortalSite:
    """What allauth's email templates call ``current_site`` (the sites framework is not installed)."""

    name: str
    domain: str


def portal_site(request=None) -> PortalSite:
    domain = request.get_host() if request is not None else urlsplit(settings.SITE_URL).netloc
    return PortalSite(name=gettext("Prakerja Portal"), domain=domain)


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # Remember the language the person signed up in: later emails and SMS use it.
        user.language = translation.get_language() or "id"
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix, email, context):
        """Account emails (verification, password reset) go through the outbox.

        They are sent after the request commits, retried on SMTP errors, and
        their text (which holds a one-time link) is erased once sent.
        """
        request = allauth_context.request
        context = {"request": request, "email": email, "current_site": portal_site(request), **context}
        message = self.render_mail(template_prefix, email, context)
        notification_queue(
            channel=NotificationChannel.EMAIL,
            recipient=email,
            subject=message.subject,
            body=message.body,
            user=context.get("user") if getattr(context.get("user"), "pk", None) else None,
            sensitive=True,
        )
