"""SMS backends. Pick one with ``SMS_BACKEND`` (a dotted path).

- ``ConsoleSmsBackend`` (default): writes the message to standard output, for
  the embedded setup and development.
- ``LocmemSmsBackend``: keeps messages in ``prakerja.sms.outbox`` for tests.
- ``HttpSmsBackend``: posts JSON to an SMS gateway (``SMS_HTTP_URL``, bearer
  token ``SMS_HTTP_TOKEN``).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The message was not accepted. ``transient`` errors are worth retrying."""

    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        """Send one message; return the gateway's message id (or "")."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    _lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        with self._lock:
            sys.stdout.write(f"--- SMS to {message.to} ---\n{message.body}\n---\n")
            sys.stdout.flush()
        return ""


outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


class HttpSmsBackend(BaseSmsBackend):
    """A plain JSON gateway: POST {"to", "message", "sender"} -> 2xx {"id": ...}."""

    def send(self, message: SmsMessage) -> str:
        if not settings.SMS_HTTP_URL:
            raise SmsError("SMS_HTTP_URL is not set", transient=False)
        try:
            response = requests.post(
                settings.SMS_HTTP_URL,
                json={"to": message.to, "message": message.body, "sender": settings.SMS_SENDER_ID},
                headers={"Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}"},
                timeout=settings.SMS_HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise SmsError(f"gateway unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SmsError(f"gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise SmsError(f"gateway refused the message ({response.status_code})", transient=False)
        try:
            return str(response.json().get("id", ""))
        except ValueError:
            return ""


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, body: str) -> str:
    return get_sms_backend().send(SmsMessage(to=to, body=body))
