"""One-time SMS codes, shared by every app.

A code belongs to one account and one purpose (``phone_verify`` for the
registration's phone check, ``purchase`` for the marketplace, ...). It has 6
digits, is stored only as an HMAC, expires after ``OTP_TTL_SECONDS`` (5
minutes), allows ``OTP_MAX_ATTEMPTS`` (5) wrong tries and is sent through the
notification outbox as a *sensitive* SMS (its text is erased once sent).

Sending is rate-limited per mobile number and per account, with a short wait
between two codes for the same purpose. Both limits are counted from the code
rows themselves, so they hold across web processes and restarts.

    sent = otp_send(user=user, phone="+6281234567890", purpose="phone_verify")
    verified = otp_verify(user=user, purpose="phone_verify", code="123456")
    verified.phone  # the number the code was sent to: trust this, not a form field

Both raise ``OtpError`` with a stable ``code`` and a message for the person.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from prakerja.enums import NotificationChannel
from prakerja.models import OneTimeCode
from prakerja.notifications import notification_queue

CODE_DIGITS = 6

# What the SMS says the code is for. Apps may use other purposes: those get
# the generic wording.
PURPOSE_TEXTS = {
    "phone_verify": _("to verify your mobile number"),
    "claim": _("to take over your registration made at the Disnaker office"),
    "purchase": _("to confirm your training purchase"),
    "payout_account": _("to confirm your bank account or e-wallet"),
}


class OtpError(Exception):
    """A code could not be sent or was not accepted. ``code`` is stable."""

    def __init__(self, code: str, message: str, *, retry_after: int = 0, attempts_left: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.attempts_left = attempts_left


@dataclass(frozen=True)
class OtpSent:
    code_id: int
    phone: str
    expires_at: datetime
    resend_at: datetime


@dataclass(frozen=True)
class OtpVerified:
    code_id: int
    phone: str


def _hash(*, user_id: int, purpose: str, phone: str, code: str) -> str:
    return salted_hmac("prakerja.otp", f"{user_id}:{purpose}:{phone}:{code}", algorithm="sha256").hexdigest()


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _wait_message(seconds: int) -> str:
    if seconds < 120:
        return ngettext(
            "Please wait %(count)d second before asking for a new code.",
            "Please wait %(count)d seconds before asking for a new code.",
            seconds,
        ) % {"count": seconds}
    minutes = _minutes(seconds)
    return ngettext(
        "Please wait %(count)d minute before asking for a new code.",
        "Please wait %(count)d minutes before asking for a new code.",
        minutes,
    ) % {"count": minutes}


def _check_limit(queryset, *, limit: int, window: timedelta, now: datetime, code: str, message: str) -> None:
    since = now - window
    recent = list(
        queryset.filter(created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        # The oldest of the last ``limit`` codes leaves the window first.
        retry_after = int((recent[-1] + window - now).total_seconds()) + 1
        raise OtpError(code, f"{message} {_wait_message(retry_after)}", retry_after=retry_after)


# With details, the SMS says what the code is for: a purchase started by a platform
# names the training, its price and the platform, so the owner of the card can tell
# a purchase they did not ask for (the code is the consent).
PURPOSE_DETAIL_TEXTS = {
    "purchase": _('to buy "%(item)s" for %(price)s on %(platform)s'),
}
SMS_ITEM_MAX_CHARS = 40
# Plain-ASCII stand-ins: one character outside the GSM 7-bit alphabet turns the whole SMS
# into UCS-2 (67 characters a part instead of 160), which costs a part more on every code.
_SMS_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."})


def sms_plain(text: str, *, max_chars: int | None = None) -> str:
    """``text`` folded to ASCII for an SMS (typographic punctuation replaced, accents dropped),
    cut to ``max_chars`` with "..." when longer."""
    folded = unicodedata.normalize("NFKD", text.translate(_SMS_PLAIN)).encode("ascii", "ignore").decode()
    if max_chars and len(folded) > max_chars:
        folded = folded[: max_chars - 3].rstrip() + "..."
    return folded


def otp_sms_text(*, code: str, purpose: str, language: str, detail: dict | None = None) -> str:
    with translation.override(language):
        purpose_text = PURPOSE_TEXTS.get(purpose)
        if detail and purpose in PURPOSE_DETAIL_TEXTS:
            values = dict(detail)
            values["item"] = sms_plain(str(values.get("item", "")), max_chars=SMS_ITEM_MAX_CHARS)
            values["platform"] = sms_plain(str(values.get("platform", "")))
            purpose_text = str(PURPOSE_DETAIL_TEXTS[purpose]) % values
        minutes = _minutes(settings.OTP_TTL_SECONDS)
        if purpose_text:
            return gettext(
                "%(code)s is your Prakerja code %(purpose)s. Valid for %(minutes)d minutes. "
                "NEVER share this code with anyone, including officers."
            ) % {"code": code, "purpose": purpose_text, "minutes": minutes}
        return gettext(
            "%(code)s is your Prakerja code. Valid for %(minutes)d minutes. "
            "NEVER share this code with anyone, including officers."
        ) % {"code": code, "minutes": minutes}


def otp_send(
    *, user, phone: str, purpose: str, language: str | None = None, detail: dict | None = None
) -> OtpSent:
    """Send a new code for ``purpose`` to ``phone`` (E.164); earlier codes for it stop working.

    ``detail`` fills the purpose's longer text where it has one (see ``PURPOSE_DETAIL_TEXTS``).
    """
    if not phone.startswith("+") or not phone[1:].isdigit():
        raise ValueError("phone must be in E.164 form, e.g. +6281234567890")
    now = timezone.now()
    with transaction.atomic():
        # One send at a time per account, so two quick taps cannot both pass the limits.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        codes = OneTimeCode.objects.all()
        last = codes.filter(user=user, purpose=purpose).order_by("-created_at").first()
        if last is not None:
            wait = int(
                (last.created_at + timedelta(seconds=settings.OTP_RESEND_SECONDS) - now).total_seconds()
            )
            if wait > 0:
                raise OtpError("resend_too_soon", _wait_message(wait), retry_after=wait)
        for window, per_phone, per_user in (
            (timedelta(hours=1), settings.OTP_PHONE_LIMIT_PER_HOUR, settings.OTP_USER_LIMIT_PER_HOUR),
            (timedelta(days=1), settings.OTP_PHONE_LIMIT_PER_DAY, settings.OTP_USER_LIMIT_PER_DAY),
        ):
            _check_limit(
                codes.filter(phone=phone),
                limit=per_phone,
                window=window,
                now=now,
                code="phone_limit",
                message=gettext("Too many codes were sent to this number."),
            )
            _check_limit(
                codes.filter(user=user),
                limit=per_user,
                window=window,
                now=now,
                code="account_limit",
                message=gettext("Too many codes were requested for your account."),
            )
        codes.filter(user=user, purpose=purpose, used_at__isnull=True, replaced_at__isnull=True).update(
            replaced_at=now
        )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        row = OneTimeCode.objects.create(
            user=user,
            purpose=purpose,
            phone=phone,
            code_hash=_hash(user_id=user.pk, purpose=purpose, phone=phone, code=code),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
        notification_queue(
            channel=NotificationChannel.SMS,
            recipient=phone,
            body=otp_sms_text(
                code=code, purpose=purpose, language=language or user.language or "id", detail=detail
            ),
            user=user,
            sensitive=True,
        )
    return OtpSent(
        code_id=row.pk,
        phone=phone,
        expires_at=row.expires_at,
        resend_at=now + timedelta(seconds=settings.OTP_RESEND_SECONDS),
    )


def otp_verify(*, user, purpose: str, code: str) -> OtpVerified:
    """Accept ``code`` if it is the latest unused, unexpired code for ``purpose``. Uses it up."""
    code = "".join(ch for ch in str(code) if not ch.isspace())
    now = timezone.now()
    error: OtpError | None = None
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(user=user, purpose=purpose, used_at__isnull=True, replaced_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            error = OtpError("no_code", gettext("There is no active code. Ask for a new code."))
        elif row.expires_at <= now:
            error = OtpError("expired", gettext("This code has expired. Ask for a new code."))
        elif row.attempts >= settings.OTP_MAX_ATTEMPTS:
            error = OtpError(
                "too_many_attempts",
                gettext("You entered a wrong code too many times. Ask for a new code."),
                attempts_left=0,
            )
        elif not (
            len(code) == CODE_DIGITS
            and code.isdigit()
            and constant_time_compare(
                row.code_hash, _hash(user_id=user.pk, purpose=purpose, phone=row.phone, code=code)
            )
        ):
            row.attempts += 1
            OneTimeCode.objects.filter(pk=row.pk).update(attempts=row.attempts)
            left = settings.OTP_MAX_ATTEMPTS - row.attempts
            if left > 0:
                message = ngettext(
                    "The code is not correct. You have %(count)d more try.",
                    "The code is not correct. You have %(count)d more tries.",
                    left,
                ) % {"count": left}
                error = OtpError("wrong_code", message, attempts_left=left)
            else:
                error = OtpError(
                    "too_many_attempts",
                    gettext("You entered a wrong code too many times. Ask for a new code."),
                    attempts_left=0,
                )
        else:
            OneTimeCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
    if error is not None:
        raise error
    return OtpVerified(code_id=row.pk, phone=row.phone)


def otp_active(*, user, purpose: str) -> OneTimeCode | None:
    """The code a person could still enter for ``purpose`` (for showing "sent to ...")."""
    return (
        OneTimeCode.objects.filter(
            user=user,
            purpose=purpose,
            used_at__isnull=True,
            replaced_at__isnull=True,
            expires_at__gt=timezone.now(),
            attempts__lt=settings.OTP_MAX_ATTEMPTS,
        )
        .order_by("-created_at")
        .first()
    )


def otp_purge(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Delete code rows past every rate-limit window."""
    deleted, _rows = OneTimeCode.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
