"""Platform API: purchases with the participant's SMS code, vouchers, redeem, completion, cancel.

    POST /purchases                      card number + listing -> purchase awaiting the code (SMS sent)
    GET  /purchases/{id}                 the purchase, with its voucher once paid
    POST /purchases/{id}/confirm         the participant's code -> the voucher
    POST /purchases/{id}/resend-code     a new code (the old one stops working)
    GET  /vouchers/{code}                a voucher of the calling platform
    POST /vouchers/{code}/redeem         -> redeem code (webinars: within an hour of the session start)
    POST /vouchers/{code}/complete       certificate number and score
    POST /vouchers/{code}/cancel         unredeemed only; the balance is refunded

Refusals are *returned* as error responses rather than raised, so that what
the service committed on the way (a wrong code's attempt counter, a purchase
marked as failed) is kept in the request's transaction and the stored
idempotent response tells the same story.
"""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from stdnum import luhn

from cohorts.models import Participant
from marketplace import services
from marketplace.api.errors import ApiError
from marketplace.api.framework import ApiContext, json_int, parse_json_object, platform_endpoint
from marketplace.enums import CancelledBy, PurchaseChannel, PurchaseStatus
from marketplace.exceptions import PurchaseRefused, VoucherRefused
from marketplace.models import Listing, Purchase, TrainingSession, Voucher
from marketplace.services.purchases import FAILURE_API_CODES
from prakerja.models import OneTimeCode

CARD_DIGITS = 16
CONFIRM_CODE_MAX_LENGTH = 12  # openapi.yaml: maxLength
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)


# --- JSON -------------------------------------------------------------------------


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def session_json(session: TrainingSession | None) -> dict | None:
    if session is None:
        return None
    margin = datetime.timedelta(minutes=settings.MARKETPLACE_REDEEM_WINDOW_MINUTES)
    return {
        "id": session.pk,
        "starts_at": session.starts_at.isoformat(),
        "redeem_opens_at": (session.starts_at - margin).isoformat(),
        "redeem_closes_at": (session.starts_at + margin).isoformat(),
    }


def voucher_json(voucher: Voucher) -> dict:
    purchase = voucher.purchase
    training = voucher.training
    completion = getattr(voucher, "completion", None)
    return {
        "code": voucher.code,
        "status": voucher.status,
        "purchase_id": purchase.pk,
        "listing_id": purchase.listing_id,
        "sku": purchase.listing.sku,
        "price": purchase.price,
        "training": {
            "id": training.pk,
            "title": training.title,
            "mode": training.mode,
            "provider": {"id": training.provider_id, "name": str(training.provider)},
        },
        "session": session_json(voucher.session),
        "issued_at": voucher.issued_at.isoformat(),
        "redeem_code": voucher.redeem_code or None,
        "redeemed_at": _iso(voucher.redeemed_at),
        "cancelled_at": _iso(voucher.cancelled_at),
        "completed_at": _iso(voucher.completed_at),
        "completion": (
            {
                "certificate_number": completion.certificate_number,
                "score": completion.score,
                "completed_at": completion.completed_at.isoformat(),
            }
            if completion
            else None
        ),
    }


def purchase_json(purchase: Purchase, *, voucher: Voucher | None = None) -> dict:
    code = None
    if purchase.status == PurchaseStatus.AWAITING_CODE and purchase.otp_code_id:
        code = OneTimeCode.objects.filter(pk=purchase.otp_code_id).only("created_at", "expires_at").first()
    if voucher is None and purchase.status in (PurchaseStatus.PAID, PurchaseStatus.REFUNDED):
        voucher = _vouchers().get(purchase=purchase)
    resend = datetime.timedelta(seconds=settings.OTP_RESEND_SECONDS)
    return {
        "id": purchase.pk,
        "status": purchase.status,
        "failure_code": FAILURE_API_CODES.get(purchase.failure_code) if purchase.failure_code else None,
        "listing_id": purchase.listing_id,
        "sku": purchase.listing.sku,
        "price": purchase.price,
        "session": session_json(purchase.session),
        "created_at": purchase.created_at.isoformat(),
        "paid_at": _iso(purchase.paid_at),
        "code_expires_at": _iso(code.expires_at) if code else None,
        "resend_after": _iso(code.created_at + resend) if code else None,
        "voucher": voucher_json(voucher) if voucher else None,
    }


def _vouchers():
    return Voucher.objects.select_related(
        "purchase__listing", "training__provider", "session", "completion", "platform"
    )


def _purchases(context: ApiContext):
    return Purchase.objects.filter(platform=context.platform).select_related("listing", "session")


# --- Errors -------------------------------------------------------------------------


def _refusal(exc: PurchaseRefused | VoucherRefused) -> HttpResponse:
    """The refusal as the API's error: the stable code, the API's own wording, facts in details.

    The services' messages speak to the participant (and may name their balance);
    the API answers in its own words and never says more than the code.
    """
    details: dict = dict(getattr(exc, "details", {}) or {})
    if getattr(exc, "attempts_left", None) is not None:
        details["attempts_left"] = exc.attempts_left
    if getattr(exc, "retry_after", 0):
        details["retry_after"] = exc.retry_after
    return ApiError(exc.code, details=details).response()


def _validation(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ApiError("validation_failed", details=errors)


def _fields(data: dict, *, allowed: set[str]) -> dict[str, list[str]]:
    return {name: ["unknown field"] for name in sorted(set(data) - allowed)}


def _positive_int(data: dict, name: str, errors: dict, *, required: bool) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = ["required"]
        return None
    number = json_int(value)
    if number is None or number < 1:
        errors[name] = ["must be a positive integer"]
        return None
    return number


def _card_failures_key(context: ApiContext) -> str:
    return f"marketplace:card-failures:{context.platform.pk}:{int(time.time()) // 3600}"


def _card_failures_check(context: ApiContext) -> None:
    if (cache.get(_card_failures_key(context)) or 0) >= settings.MARKETPLACE_API_CARD_FAILURES_PER_HOUR:
        raise ApiError("rate_limited", details={"retry_after": 3600 - int(time.time()) % 3600})


def _card_failure_count(context: ApiContext) -> None:
    key = _card_failures_key(context)
    cache.add(key, 0, 3600)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, 3600)


# --- Purchases ------------------------------------------------------------------------


@platform_endpoint(methods=("POST",))
def purchases(request: HttpRequest, context: ApiContext) -> HttpResponse:
    """Start a purchase for a card number; the participant receives an SMS code."""
    data = parse_json_object(request)
    errors = _fields(data, allowed={"card_number", "listing_id", "session_id"})
    raw_card = data.get("card_number")
    card = "".join(str(raw_card).split()) if isinstance(raw_card, str) else ""
    if not (len(card) == CARD_DIGITS and card.isdigit() and luhn.is_valid(card)):
        errors["card_number"] = ["must be the 16-digit card number (with its check digit)"]
    listing_id = _positive_int(data, "listing_id", errors, required=True)
    session_id = _positive_int(data, "session_id", errors, required=False)
    _validation(errors)
    _card_failures_check(context)
    participant_id = Participant.objects.filter(card_number=card).values_list("pk", flat=True).first()
    if participant_id is None:
        _card_failure_count(context)
        return ApiError("card_not_usable").response()
    try:
        started = services.purchase_start(
            participant_id=participant_id,
            listing_id=listing_id,
            channel=PurchaseChannel.API,
            platform_id=context.platform.pk,
            session_id=session_id,
        )
    except Listing.DoesNotExist:
        return ApiError("listing_not_found").response()
    except PurchaseRefused as exc:
        if exc.code == "card_not_usable":
            _card_failure_count(context)
        return _refusal(exc)
    purchase = _purchases(context).get(pk=started.purchase.pk)
    return JsonResponse(purchase_json(purchase), status=201 if started.code_sent else 200)


@platform_endpoint(methods=("GET",))
def purchase(request: HttpRequest, context: ApiContext, purchase_id: int) -> HttpResponse:
    row = _purchases(context).filter(pk=purchase_id).first()
    if row is None:
        return ApiError("purchase_not_found").response()
    return JsonResponse(purchase_json(row))


@platform_endpoint(methods=("POST",))
def purchase_confirm(request: HttpRequest, context: ApiContext, purchase_id: int) -> HttpResponse:
    """The participant's SMS code, as they told it to the platform. Returns the paid purchase with its voucher."""
    data = parse_json_object(request)
    errors = _fields(data, allowed={"code"})
    code = data.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > CONFIRM_CODE_MAX_LENGTH:
        errors["code"] = ["required: the 6-digit code from the SMS, as a string"]
    _validation(errors)
    try:
        voucher = services.purchase_confirm(
            purchase_id=purchase_id, code=code, platform_id=context.platform.pk
        )
    except Purchase.DoesNotExist:
        return ApiError("purchase_not_found").response()
    except PurchaseRefused as exc:
        return _refusal(exc)
    row = _purchases(context).get(pk=purchase_id)
    return JsonResponse(purchase_json(row, voucher=_vouchers().get(pk=voucher.pk)))


@platform_endpoint(methods=("POST",))
def purchase_resend(request: HttpRequest, context: ApiContext, purchase_id: int) -> HttpResponse:
    data = parse_json_object(request) if request.body else {}
    _validation(_fields(data, allowed=set()))
    try:
        services.purchase_code_resend(purchase_id=purchase_id, platform_id=context.platform.pk)
    except Purchase.DoesNotExist:
        return ApiError("purchase_not_found").response()
    except PurchaseRefused as exc:
        return _refusal(exc)
    return JsonResponse(purchase_json(_purchases(context).get(pk=purchase_id)))


# --- Vouchers -------------------------------------------------------------------------


def _voucher_response(voucher_id: int) -> JsonResponse:
    return JsonResponse(voucher_json(_vouchers().get(pk=voucher_id)))


@platform_endpoint(methods=("GET",))
def voucher(request: HttpRequest, context: ApiContext, code: str) -> HttpResponse:
    try:
        found = services.voucher_find(code=code, platform_id=context.platform.pk)
    except VoucherRefused as exc:
        return _refusal(exc)
    return _voucher_response(found.pk)


@platform_endpoint(methods=("POST",))
def voucher_redeem(request: HttpRequest, context: ApiContext, code: str) -> HttpResponse:
    """Redeem the voucher for the training; the answer carries the redeem code."""
    data = parse_json_object(request) if request.body else {}
    errors = _fields(data, allowed={"provider_id"})
    provider_id = _positive_int(data, "provider_id", errors, required=False)
    _validation(errors)
    try:
        redeemed = services.voucher_redeem(
            code=code, platform_id=context.platform.pk, provider_id=provider_id
        )
    except VoucherRefused as exc:
        return _refusal(exc)
    return _voucher_response(redeemed.pk)


@platform_endpoint(methods=("POST",))
def voucher_complete(request: HttpRequest, context: ApiContext, code: str) -> HttpResponse:
    """Report completion with the certificate number and the score (0-100)."""
    data = parse_json_object(request)
    errors = _fields(data, allowed={"certificate_number", "score", "completed_at"})
    certificate = data.get("certificate_number")
    if not isinstance(certificate, str) or not 1 <= len(certificate.strip()) <= 64:
        errors["certificate_number"] = ["required: 1-64 characters"]
    score = json_int(data.get("score"))
    if score is None or not 0 <= score <= 100:
        errors["score"] = ["required: an integer from 0 to 100"]
    completed_at = None
    if data.get("completed_at") is not None:
        completed_at = parse_datetime(data["completed_at"]) if isinstance(data["completed_at"], str) else None
        if completed_at is None or completed_at.tzinfo is None:
            errors["completed_at"] = ["must be an ISO 8601 date-time with a time zone"]
        elif completed_at > timezone.now() + MAX_CLOCK_SKEW:
            errors["completed_at"] = ["must not be in the future"]
    _validation(errors)
    try:
        completion = services.completion_record(
            code=code,
            platform_id=context.platform.pk,
            certificate_number=certificate.strip(),
            score=score,
            completed_at=completed_at,
        )
    except VoucherRefused as exc:
        return _refusal(exc)
    return _voucher_response(completion.voucher_id)


@platform_endpoint(methods=("POST",))
def voucher_cancel(request: HttpRequest, context: ApiContext, code: str) -> HttpResponse:
    """Cancel an unredeemed voucher; the price goes back to the participant's balance."""
    data = parse_json_object(request) if request.body else {}
    errors = _fields(data, allowed={"reason"})
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 300:
        errors["reason"] = ["must be text of at most 300 characters"]
    _validation(errors)
    try:
        found = services.voucher_find(code=code, platform_id=context.platform.pk)
        cancelled = services.voucher_cancel(
            voucher_id=found.pk, by=CancelledBy.PLATFORM, platform_id=context.platform.pk, reason=reason
        )
    except VoucherRefused as exc:
        return _refusal(exc)
    return _voucher_response(cancelled.pk)
