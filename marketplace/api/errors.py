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
    "validation_failed": (422, _("Some fields are not valid; see details.")),
    "price_not_allowed": (422, _("This price is not allowed.")),
    "not_found": (404, _("There is no such endpoint.")),
    "listing_not_found": (404, _("No listing of your platform has this id.")),
    "method_not_allowed": (405, _("This method is not allowed here.")),
    "not_implemented": (501, _("This endpoint is reserved and not implemented yet.")),
    "internal_error": (500, _("Something went wrong on our side. Retry with the same Idempotency-Key.")),
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
    return response
