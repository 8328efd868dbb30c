"""The platform API's request pipeline: authentication, replay protection, idempotency.

Every endpoint is wrapped by ``platform_endpoint``:

1. the signature headers are checked (key id, 5-minute timestamp window, HMAC);
2. the nonce is recorded; a second use is refused (``nonce_reused``);
3. a state-changing call needs an ``Idempotency-Key``: the first response is
   stored in the same transaction as the change, and a retry with the same key
   and the same request gets that response again (``Idempotent-Replayed: true``);
4. errors become JSON with stable codes (errors.py).

Before any of that, input no endpoint could mean is answered at once: a path
with a control character is ``not_found`` (404; a path names nothing with a
newline in it), a body over ``MAX_BODY_BYTES`` is ``payload_too_large`` (413).
After authentication a query value with a control character is
``validation_failed``. Every header is matched against a strict ASCII pattern
before it is used, so nothing malformed reaches the database or ``int()``.

The signature covers the path percent-decoded (``request.path``: ``%2D`` and
``-`` sign the same) and the query string exactly as sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from marketplace.api import signing
from marketplace.api.errors import ApiError, error_response
from marketplace.credentials import CredentialKeyError, secret_decrypt
from marketplace.models import ApiIdempotencyRecord, ApiNonce, Platform, PlatformCredential
from marketplace.services.api_signing import signed_client_authenticate, signed_path

logger = logging.getLogger(__name__)

# Patterns are used with fullmatch (``$`` would let a trailing newline through).
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,100}")
# C0 controls and DEL, except tab, line feed and carriage return (allowed inside JSON text).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PATH_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_MESSAGE = "must not contain control characters"
# API bodies are a few hundred bytes; anything bigger is refused before it is read.
MAX_BODY_BYTES = 64 * 1024
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class ApiContext:
    platform: Platform
    credential: PlatformCredential


def authenticate(request: HttpRequest) -> ApiContext:
    def secret_of(credential: PlatformCredential) -> str | None:
        try:
            return secret_decrypt(credential.secret_encrypted)
        except CredentialKeyError:
            logger.error("platform API: cannot decrypt the secret of key %s", credential.key_id)
            return None

    credential = signed_client_authenticate(
        request=request, credential_model=PlatformCredential, nonce_model=ApiNonce, secret_of=secret_of
    )
    return ApiContext(platform=credential.platform, credential=credential)


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), signed_path(request).encode(), request.body or b""):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(record: ApiIdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body), status=record.status_code, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotent(
    request: HttpRequest, context: ApiContext, handler: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run ``handler`` once per Idempotency-Key; later calls with the key get the first response.

    The claim, the handler's writes and the stored response commit together. A
    concurrent request with the same key waits on the unique index, then
    replays. A 5xx (or an exception) rolls everything back, so a retry runs again.
    """
    key = request.headers.get(signing.HEADER_IDEMPOTENCY_KEY, "")
    if not key:
        raise ApiError("idempotency_key_missing")
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise ApiError("idempotency_key_invalid")
    request_hash = _request_hash(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ApiIdempotencyRecord.objects.create(
                    platform=context.platform,
                    key=key,
                    request_hash=request_hash,
                    method=request.method,
                    path=signed_path(request)[:500],
                    status_code=0,
                    response_body=b"",
                )
        except IntegrityError:
            record = ApiIdempotencyRecord.objects.get(platform=context.platform, key=key)
            if record.request_hash != request_hash:
                raise ApiError("idempotency_key_reused") from None
            return _replay(record)
        try:
            with transaction.atomic():
                response = handler()
        except ApiError as exc:
            response = exc.response()
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        ApiIdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code, response_body=response.content
        )
    return response


def _language(request: HttpRequest) -> str:
    accept = request.headers.get("Accept-Language", "").strip().lower()
    return "en" if accept.startswith("en") else "id"


def _has_control_characters(value) -> bool:
    if isinstance(value, str):
        return bool(CONTROL_CHARACTERS.search(value))
    if isinstance(value, list):
        return any(_has_control_characters(item) for item in value)
    if isinstance(value, dict):
        return any(_has_control_characters(k) or _has_control_characters(v) for k, v in value.items())
    return False


def parse_json_object(request: HttpRequest) -> dict:
    """The body as a JSON object; no text in it may hold a control character (PostgreSQL refuses NUL)."""
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: an array nested 100,000 deep.
        raise ApiError("invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError("invalid_json")
    errors = {
        CONTROL_CHARACTERS.sub("", name) or "_": [CONTROL_MESSAGE]
        for name, value in data.items()
        if _has_control_characters(name) or _has_control_characters(value)
    }
    if errors:
        raise ApiError("validation_failed", details=errors)
    return data


def json_int(value) -> int | None:
    """A JSON number that is a whole number (``80`` or ``80.0``, as JSON Schema's ``integer``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)  # beyond 2**53 a float is no longer an exact whole number
    return None


def _query_check(request: HttpRequest) -> None:
    errors = {
        PATH_CONTROL_CHARACTERS.sub("", name) or "_": [CONTROL_MESSAGE]
        for name, values in request.GET.lists()
        if PATH_CONTROL_CHARACTERS.search(name) or any(PATH_CONTROL_CHARACTERS.search(v) for v in values)
    }
    if errors:
        raise ApiError("validation_failed", details=errors)


def _body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django reads no body without a valid length
    return length > MAX_BODY_BYTES


def input_refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer to input no endpoint can mean, before authentication (also for unknown paths)."""
    if PATH_CONTROL_CHARACTERS.search(request.path):
        return error_response("not_found")
    if _body_too_large(request):
        return error_response("payload_too_large", details={"max_bytes": MAX_BODY_BYTES})
    return None


def platform_endpoint(*, methods: tuple[str, ...]):
    """Wrap a view ``view(request, context, **kwargs) -> HttpResponse`` with the API pipeline."""

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
                    _query_check(request)
                    if request.method in STATE_CHANGING:
                        return run_idempotent(request, context, lambda: view(request, context, **kwargs))
                    return view(request, context, **kwargs)
                except ApiError as exc:
                    return exc.response()
                except RequestDataTooBig:
                    return error_response("payload_too_large", details={"max_bytes": MAX_BODY_BYTES})
                except Exception:
                    logger.exception("platform API: unexpected error on %s %s", request.method, request.path)
                    return error_response("internal_error")

        return wrapper

    return decorator
