"""Payout accounts (``/rekening/``): link one bank account or e-wallet, checked at the partner.

Linking is two steps. ``payout_account_start`` checks the destination with the partner's account
inquiry (it must exist and be registered under the participant's NIK; an e-wallet must be the
participant's verified mobile number) and sends an SMS code; ``payout_account_confirm`` takes the code
and makes the account live: ACTIVE, or REVIEW when the holder's name at the partner differs from the
civil-registry name beyond normalisation. A change of account tells the old number by SMS and holds
payouts for PAYOUT_COOLING_OFF_DAYS. The view asks for the password again before any of it.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from disbursement.enums import EWALLET_CHANNELS, PayoutAccountStatus, PayoutChannel, PayoutStatus
from disbursement.models import Payout, PayoutAccount
from disbursement.services.partners import partner_client, partner_for_channel
from prakerja import otp
from prakerja.audit import audit_log
from prakerja.enums import NotificationChannel
from prakerja.notifications import notification_queue
from prakerja.otp import sms_plain

if TYPE_CHECKING:
    from prakerja.models import User

logger = logging.getLogger(__name__)

OTP_PURPOSE = "payout_account"
LIVE = (PayoutAccountStatus.ACTIVE, PayoutAccountStatus.REVIEW)
# Honorifics and titles people add or drop; they do not make a name someone else's.
NAME_NOISE = frozenset({"bapak", "bpk", "ibu", "sdr", "sdri", "tn", "ny", "nn", "h", "hj", "dr", "ir", "drs"})


class PayoutAccountError(Exception):
    """A refusal the person can act on; ``message`` is translated."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message


ERRORS = {
    "no_profile": _("Complete your profile and verify your mobile number first."),
    "phone_unverified": _("Verify your mobile number first: the SMS code goes to it."),
    "number_invalid": _("Enter the account number with digits only (6 to 20 digits)."),
    "ewallet_not_own_phone": _("An e-wallet must be registered on your verified mobile number %(phone)s."),
    "no_partner": _("This bank or e-wallet cannot be used at the moment. Choose another one."),
    "not_found": _("The account was not found at the bank or e-wallet. Check the number."),
    "other_nik": _(
        "This account is registered under a different NIK. Use an account in your own name and NIK."
    ),
    "partner_unavailable": _("The bank or e-wallet did not answer. Nothing was saved; please try again."),
    "no_pending": _("Start again: enter the account first."),
}


def _error(code: str, **params) -> PayoutAccountError:
    message = ERRORS[code]
    return PayoutAccountError(code, (str(message) % params) if params else message)


def name_normalise(name: str) -> str:
    """Upper-case letters only, accents and punctuation dropped, titles removed, words sorted."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    words = [w for w in re.split(r"[^a-z]+", text) if w and w not in NAME_NOISE]
    return " ".join(sorted(words))


def names_match(a: str, b: str) -> bool:
    return bool(name_normalise(a)) and name_normalise(a) == name_normalise(b)


def _local_phone(e164: str) -> str:
    return "0" + e164[3:] if e164.startswith("+62") else e164


@dataclass(frozen=True)
class AccountStarted:
    account: PayoutAccount
    sent: otp.OtpSent


def payout_account_start(*, user: User, channel: str, account_number: str) -> AccountStarted:
    """Check the destination at the partner and send the SMS code; nothing is live until the code."""
    from registration.phones import PhoneError, phone_masked, phone_parse

    applicant = getattr(user, "applicant", None)
    if applicant is None or not applicant.nik:
        raise _error("no_profile")
    if not applicant.phone_verified_at or not applicant.phone:
        raise _error("phone_unverified")
    channel = PayoutChannel(channel)
    number = "".join(ch for ch in account_number if not ch.isspace() and ch != "-")
    if channel in EWALLET_CHANNELS:
        try:
            parsed = phone_parse(number)
        except PhoneError:
            parsed = ""
        if parsed != applicant.phone:
            raise _error("ewallet_not_own_phone", phone=phone_masked(applicant.phone))
        number = _local_phone(parsed)
    elif not (number.isdigit() and 6 <= len(number) <= 20):
        raise _error("number_invalid")
    partner = partner_for_channel(channel=channel)
    if partner is None:
        raise _error("no_partner")
    from disbursement.gateway import PartnerError

    try:
        inquiry = partner_client(partner=partner).account_inquiry(
            channel=channel, account_number=number, nik=applicant.nik
        )
    except PartnerError as exc:
        logger.warning("account inquiry at %s failed: %s", partner, exc)
        raise _error("partner_unavailable") from exc
    if not inquiry.exists:
        raise _error("not_found")
    if not inquiry.nik_match:
        audit_log(
            actor=user,
            action="disbursement.payout_account_refused",
            obj=user,
            data={"why": "other_nik", "channel": channel.value},
        )
        raise _error("other_nik")
    with transaction.atomic():
        PayoutAccount.objects.filter(owner=user, status=PayoutAccountStatus.PENDING).update(
            status=PayoutAccountStatus.REJECTED, review_note="superseded before confirmation"
        )
        account = PayoutAccount.objects.create(
            owner=user,
            partner=partner,
            channel=channel,
            account_number=number,
            holder_name=inquiry.holder_name[:200],
            status=PayoutAccountStatus.PENDING,
        )
        sent = otp.otp_send(user=user, phone=applicant.phone, purpose=OTP_PURPOSE)
    return AccountStarted(account=account, sent=sent)


def payout_account_pending(*, user: User) -> PayoutAccount | None:
    return (
        PayoutAccount.objects.filter(owner=user, status=PayoutAccountStatus.PENDING).order_by("-id").first()
    )


def payout_account_confirm(*, user: User, code: str) -> PayoutAccount:
    """Take the SMS code and make the pending account live (ACTIVE, or REVIEW on a name mismatch).

    Raises ``otp.OtpError`` for a wrong or expired code and ``PayoutAccountError`` with nothing pending.
    """
    pending = payout_account_pending(user=user)
    if pending is None:
        raise _error("no_pending")
    otp.otp_verify(user=user, purpose=OTP_PURPOSE, code=code)
    applicant = user.applicant
    now = timezone.now()
    with transaction.atomic():
        account = PayoutAccount.objects.select_for_update().get(pk=pending.pk)
        if account.status != PayoutAccountStatus.PENDING:
            raise _error("no_pending")
        old = PayoutAccount.objects.select_for_update().filter(owner=user, status__in=LIVE).first()
        if old is not None:
            PayoutAccount.objects.filter(pk=old.pk).update(status=PayoutAccountStatus.REPLACED)
        review = not names_match(account.holder_name, applicant.full_name)
        account.status = PayoutAccountStatus.REVIEW if review else PayoutAccountStatus.ACTIVE
        account.confirmed_at = now
        account.payable_from = (
            now + datetime.timedelta(days=settings.PAYOUT_COOLING_OFF_DAYS) if old is not None else None
        )
        account.save(update_fields=["status", "confirmed_at", "payable_from"])
        audit_log(
            actor=user,
            action="disbursement.payout_account_link",
            obj=account,
            data={
                "channel": account.channel,
                "number": account.masked_number,
                "review": review,
                "replaces": old.pk if old else None,
                "payable_from": account.payable_from.isoformat() if account.payable_from else None,
            },
        )
        if old is not None:
            _tell_old_number(user=user, old=old, new=account)
        # Payments that failed on the old account go to the new one with the next batch.
        from disbursement.services.payouts import payout_move_to_next_batch

        for payout_id in Payout.objects.filter(owner=user, status=PayoutStatus.FAILED).values_list(
            "id", flat=True
        ):
            payout_move_to_next_batch(payout_id=payout_id, actor=user)
    return account


def _tell_old_number(*, user: User, old: PayoutAccount, new: PayoutAccount) -> None:
    """SMS to the number the old account answered to (the e-wallet's, else the mobile on file)."""
    phone = user.applicant.phone
    if old.channel in EWALLET_CHANNELS:
        from registration.phones import PhoneError, phone_parse

        with contextlib.suppress(PhoneError):
            phone = phone_parse(old.account_number)
    with translation.override(user.language or "id"):
        body = gettext(
            "Prakerja: your payout account was changed to %(new)s. Payments resume on %(date)s. "
            "If this was not you, call the Prakerja contact center now."
        ) % {
            "new": f"{new.get_channel_display()} ****{new.account_number[-4:]}",
            "date": timezone.localtime(new.payable_from).strftime("%d-%m-%Y"),
        }
    notification_queue(
        channel=NotificationChannel.SMS,
        recipient=phone,
        body=sms_plain(body),
        user=user,
        idempotency_key=f"disbursement.payoutaccount:{new.pk}:changed",
    )


def payout_account_review(*, account_id: int, officer: User, approve: bool, note: str = "") -> PayoutAccount:
    """An officer decides on an account whose holder name differs: REVIEW -> ACTIVE | REJECTED. Audited."""
    if not officer.has_perm("disbursement.review_payoutaccount"):
        raise PayoutAccountError("forbidden", _("You may not review payout accounts."))
    with transaction.atomic():
        account = PayoutAccount.objects.select_for_update().get(pk=account_id)
        if account.status != PayoutAccountStatus.REVIEW:
            raise PayoutAccountError("not_in_review", _("This account is not waiting for a review."))
        account.status = PayoutAccountStatus.ACTIVE if approve else PayoutAccountStatus.REJECTED
        account.reviewed_by = officer
        account.reviewed_at = timezone.now()
        account.review_note = note[:500]
        account.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        audit_log(
            actor=officer,
            action="disbursement.payout_account_review",
            obj=account,
            data={"approve": approve, "note": note[:500], "number": account.masked_number},
        )
    return account
