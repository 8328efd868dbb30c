"""API errors: JSON bodies with stable codes.

    {"error": {"code": "signature_invalid", "message": "...", "details": {}}}

Clients act on ``code`` (listed in openapi.yaml and never renamed); ``message``
is for people, in Indonesian unless the request says ``Accept-Language: en``.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

ERRORS: dict[str, tuple[int, str]] = {
    "auth_missing": (
        401,
        _("Sign the request: the key id, timestamp, nonce and signature headers are required."),
    ),
    "key_unknown": (401, _("This key id is unknown, revoked or expired.")),
    "signature_invalid": (
        401,
        _("The signature does not match the request. Check the secret and the string to sign."),
    ),
    "timestamp_invalid": (
        401,
        _("The timestamp is missing, not a number, or too far from our clock (5 minutes at most)."),
    ),
    "nonce_invalid": (401, _("The nonce must be 16 to 64 characters: letters, digits, '-' or '_'.")),
    "nonce_reused": (401, _("This nonce has been used already. Send every request with a new nonce.")),
    "platform_inactive": (403, _("This platform is not active in the programme.")),
    "idempotency_key_missing": (
        400,
        _("Send an Idempotency-Key header with every request that changes something."),
    ),
    "idempotency_key_invalid": (
        400,
        _("The Idempotency-Key must be 8 to 100 characters: letters, digits, '-', '_', ':' or '.'."),
    ),
    "idempotency_key_reused": (422, _("This Idempotency-Key was used for a different request.")),
    "invalid_json": (400, _("The body is not a JSON object.")),
    "payload_too_large": (413, _("The body is too large for this API (details.max_bytes at most).")),
    "validation_failed": (422, _("Some fields are not valid; see details.")),
    "price_not_allowed": (422, _("This price is not allowed.")),
    "not_found": (404, _("There is no such endpoint.")),
    "listing_not_found": (404, _("No listing of your platform has this id.")),
    "method_not_allowed": (405, _("This method is not allowed here.")),
    "not_implemented": (501, _("This endpoint is reserved and not implemented yet.")),
    "internal_error": (500, _("Something went wrong on our side. Retry with the same Idempotency-Key.")),
    # Buying: purchases with the participant's SMS code.
    "rate_limited": (429, _("Too many refused card numbers from your platform. Try again later.")),
    "card_not_usable": (
        422,
        _(
            "This card number cannot be used to buy a training: it is unknown, not active, "
            "or the time to buy the first training has run out."
        ),
    ),
    "insufficient_balance": (422, _("The participant's training balance is not enough for this listing.")),
    "listing_unavailable": (422, _("This listing is not for sale in the catalog at the moment.")),
    "session_invalid": (
        422,
        _("Choose an upcoming session of this webinar (session_id), or leave it out for the next one."),
    ),
    "already_bought": (409, _("The participant already has a voucher for this training.")),
    "price_changed": (
        409,
        _("The listing's price changed after the purchase started. Start a new purchase."),
    ),
    "purchase_not_found": (404, _("No purchase of your platform has this id.")),
    "purchase_expired": (409, _("This purchase can no longer be confirmed. Start a new purchase.")),
    "code_wrong": (422, _("The code is not correct.")),
    "code_expired": (422, _("The code has expired or was replaced by a newer one. Ask for a new code.")),
    "code_attempts_exceeded": (422, _("A wrong code was entered too many times. Ask for a new code.")),
    "code_rate_limited": (
        429,
        _("Too many codes were requested for this card. Try again after details.retry_after seconds."),
    ),
    # Vouchers: redeem, completion, cancellation.
    "voucher_not_found": (404, _("No voucher has this code.")),
    "voucher_other_platform": (403, _("This voucher was bought on another platform.")),
    "voucher_other_provider": (403, _("This voucher is for a training of another provider.")),
    "voucher_already_redeemed": (409, _("This voucher has already been redeemed.")),
    "voucher_cancelled": (409, _("This voucher has been cancelled and the balance refunded.")),
    "voucher_not_redeemed": (409, _("Redeem the voucher before reporting completion.")),
    "voucher_already_completed": (409, _("Completion of this voucher has already been reported.")),
    "redeem_outside_window": (
        422,
        _(
            "A webinar voucher can be redeemed only from one hour before to one hour after the session "
            "starts (details.opens_at to details.closes_at)."
        ),
    ),
    "certificate_number_taken": (409, _("This certificate number was already reported for another voucher.")),
}


class ApiError(Exception):
    def __init__(self, code: str, message: str | None = None, *, details: dict | None = None):
        if code not in ERRORS:
            raise ValueError(f"unknown API error code {code!r}")
        super().__init__(code)
        self.code = code
        self.status, default_message = ERRORS[code]
        self.message = message or default_message
        self.details = details or {}

    def response(self) -> JsonResponse:
        return error_response(self.code, message=self.message, details=self.details)


def error_response(code: str, *, message=None, details: dict | None = None) -> JsonResponse:
    status, default_message = ERRORS[code]
    body = {"error": {"code": code, "message": str(message or default_message), "details": details or {}}}
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'PRAKERJA-HMAC-SHA256 realm="platform-api"'
    if status == 429 and (details or {}).get("retry_after"):
        response["Retry-After"] = str(details["retry_after"])
    return response
