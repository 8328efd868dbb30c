from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation

from prakerja.enums import NotificationChannel
from prakerja.notifications import notification_queue


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
        message = self.render_mail(template_prefix, email, context)
        notification_queue(
            channel=NotificationChannel.EMAIL,
            recipient=email,
            subject=message.subject,
            body=message.body,
            user=context.get("user") if getattr(context.get("user"), "pk", None) else None,
            sensitive=True,
        )
