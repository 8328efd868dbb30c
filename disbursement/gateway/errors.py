"""What can go wrong talking to a payment partner, and whether trying again (same key) can help."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class PartnerError(Exception):
    """A call to a payment partner failed. ``message`` is for people (translated at render time)."""

    transient = False
    default_message = _("The payment partner refused the request.")

    def __init__(self, code: str, message=None, *, status: int | None = None):
        self.code = code
        self.message = message if message is not None else self.default_message
        self.status = status
        super().__init__(f"{code} (HTTP {status})" if status else code)


class PartnerUnavailable(PartnerError):
    """Timeout, connection error, 5xx or 429: the request may or may not have arrived. Retry, same key."""

    transient = True
    default_message = _("The payment partner did not answer in time; the payment will be tried again.")


class PartnerRejected(PartnerError):
    """A 4xx with the partner's error code: the same request will be refused again."""

    transient = False


class CallbackInvalid(Exception):
    """A callback that is not signed by the partner, too old, or malformed: answer 401/400 and ignore it."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)
