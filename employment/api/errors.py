"""Job platform API errors: the same JSON shape and authentication codes as the training platforms'
API (``marketplace.api.errors``), plus this API's own codes.

    {"error": {"code": "consent_withdrawn", "message": "...", "details": {}}}
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from marketplace.api.errors import ERRORS as PLATFORM_API_ERRORS

# The signing scheme's codes and the generic ones, with the training platform API's messages.
SHARED = (
    "auth_missing",
    "key_unknown",
    "signature_invalid",
    "timestamp_invalid",
    "nonce_invalid",
    "nonce_reused",
    "invalid_json",
    "payload_too_large",
    "validation_failed",
    "not_found",
    "method_not_allowed",
)

ERRORS: dict[str, tuple[int, str]] = {
    **{code: PLATFORM_API_ERRORS[code] for code in SHARED},
    "platform_inactive": (403, _("This job platform is not active in the programme.")),
    "profile_not_found": (404, _("No profile shared with your platform has this id.")),
    "consent_withdrawn": (
        403,
        _(
            "The participant withdrew the consent to share this profile with your platform. "
            "Delete the data you hold about them."
        ),
    ),
    "internal_error": (500, _("Something went wrong on our side. Retry later.")),
}


class JobApiError(Exception):
    def __init__(self, code: str, message=None, *, details: dict | None = None):
        if code not in ERRORS:
            raise ValueError(f"unknown job API error code {code!r}")
        super().__init__(code)
        self.code = code
        self.message = message
        self.details = details or {}

    def response(self) -> JsonResponse:
        return error_response(self.code, message=self.message, details=self.details)


def error_response(code: str, *, message=None, details: dict | None = None) -> JsonResponse:
    status, default_message = ERRORS[code]
    body = {"error": {"code": code, "message": str(message or default_message), "details": details or {}}}
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'PRAKERJA-HMAC-SHA256 realm="job-platform-api"'
    return response
