"""The job platform API's request pipeline.

Authentication is the training platforms' scheme, verified by the same code
(``marketplace.services.signed_request_verify``): key id, 5-minute clock window, HMAC over the
method, the path, the timestamp, the nonce and the body's hash. The nonce is then recorded in
this app's table (a second use is ``nonce_reused``). Writes are idempotent by their natural keys
(an opening's ``external_id``; an outcome's ``job_reference`` + ``kind``), so no Idempotency-Key
is needed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from employment.api.errors import JobApiError, error_response
from employment.credentials import CredentialKeyError, secret_decrypt
from employment.exceptions import EmploymentError
from employment.models import JobApiNonce, JobPlatform, JobPlatformCredential
from marketplace.api.errors import ApiError
from marketplace.api.framework import MAX_BODY_BYTES, input_refusal
from marketplace.services.api_signing import signed_client_authenticate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobApiContext:
    platform: JobPlatform
    credential: JobPlatformCredential


def authenticate(request: HttpRequest) -> JobApiContext:
    def secret_of(credential: JobPlatformCredential) -> str | None:
        try:
            return secret_decrypt(credential.secret_encrypted)
        except CredentialKeyError:
            logger.error("job platform API: cannot decrypt the secret of key %s", credential.key_id)
            return None

    credential = signed_client_authenticate(
        request=request,
        credential_model=JobPlatformCredential,
        nonce_model=JobApiNonce,
        secret_of=secret_of,
        error=JobApiError,
    )
    return JobApiContext(platform=credential.platform, credential=credential)


def _language(request: HttpRequest) -> str:
    return "en" if request.headers.get("Accept-Language", "").strip().lower().startswith("en") else "id"


def job_endpoint(*, methods: tuple[str, ...]):
    """Wrap ``view(request, context, **kwargs)`` with input checks, authentication and error mapping."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
            with translation.override(_language(request)):
                try:
                    refusal = input_refusal(request)
                    if refusal is not None:
                        return refusal
                    if request.method not in methods:
                        response = error_response("method_not_allowed")
                        response["Allow"] = ", ".join(methods)
                        return response
                    context = authenticate(request)
                    return view(request, context, **kwargs)
                except JobApiError as exc:
                    return exc.response()
                except ApiError as exc:  # the shared signing and parsing checks
                    return error_response(exc.code, message=exc.message, details=exc.details)
                except EmploymentError as exc:
                    return error_response(exc.code, message=exc.message, details=exc.details)
                except RequestDataTooBig:
                    return error_response("payload_too_large", details={"max_bytes": MAX_BODY_BYTES})
                except Exception:
                    logger.exception(
                        "job platform API: unexpected error on %s %s", request.method, request.path
                    )
                    return error_response("internal_error")

        return wrapper

    return decorator
