"""Verification of requests signed with the portal's API scheme (``marketplace.api.signing``).

The training platforms' API (``marketplace.api.framework``) and the job platforms' API (the
``employment`` app) use the same scheme: the four headers, the 5-minute clock window, the nonce
pattern and the HMAC over the string to sign. This function checks all of that for a request; the
caller says how a key id maps to a secret and then records the nonce in its own table (a nonce is
only used up by a correctly signed request).
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from marketplace.api import signing
from marketplace.api.errors import ApiError

# Patterns are used with fullmatch (``$`` would let a trailing newline through).
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
SIGNATURE_PATTERN = re.compile(r"[0-9a-fA-F]{64}")
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedRequest:
    key_id: str
    nonce: str
    timestamp: int
    # Whatever ``secret_lookup`` returned with the secret (the caller's credential row).
    credential: object


def signed_path(request: HttpRequest) -> str:
    """The path as signed: percent-decoded, with the query string exactly as sent."""
    query = request.META.get("QUERY_STRING", "")
    return f"{request.path}?{query}" if query else request.path


def signed_request_verify(
    *, request: HttpRequest, secret_lookup: Callable[[str], tuple[str, object] | None]
) -> SignedRequest:
    """Check a signed request; raise ``ApiError`` with the scheme's stable code when it fails.

    ``secret_lookup(key_id)`` returns ``(secret, credential)`` for a valid key, or None for a
    key that is unknown, revoked or expired.
    """
    key_id = request.headers.get(signing.HEADER_KEY_ID, "")
    timestamp = request.headers.get(signing.HEADER_TIMESTAMP, "")
    nonce = request.headers.get(signing.HEADER_NONCE, "")
    given = request.headers.get(signing.HEADER_SIGNATURE, "")
    if not (key_id and timestamp and nonce and given):
        raise ApiError("auth_missing")
    if (
        not TIMESTAMP_PATTERN.fullmatch(timestamp)
        or abs(time.time() - int(timestamp)) > settings.MARKETPLACE_API_MAX_SKEW_SECONDS
    ):
        raise ApiError("timestamp_invalid", details={"server_time": int(time.time())})
    if not NONCE_PATTERN.fullmatch(nonce):
        raise ApiError("nonce_invalid")
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise ApiError("key_unknown")
    if not SIGNATURE_PATTERN.fullmatch(given):
        raise ApiError("signature_invalid")
    found = secret_lookup(key_id)
    if found is None:
        raise ApiError("key_unknown")
    secret, credential = found
    expected = signing.signature(
        secret=secret,
        method=request.method,
        path=signed_path(request),
        timestamp=timestamp,
        nonce=nonce,
        body=request.body,
    )
    if not hmac.compare_digest(expected, given.lower()):
        raise ApiError("signature_invalid")
    return SignedRequest(key_id=key_id, nonce=nonce, timestamp=int(timestamp), credential=credential)


def signed_client_authenticate(
    *,
    request: HttpRequest,
    credential_model,
    nonce_model,
    secret_of: Callable[[object], str | None],
    error: Callable[[str], Exception] = ApiError,
):
    """The whole check of a signed API call from a partner, for every API that uses this scheme.

    ``credential_model`` rows have ``key_id``, ``platform`` (with ``active``), ``is_valid(now)`` and
    ``last_used_at``; ``nonce_model`` rows ``platform``, ``nonce`` (unique per platform) and
    ``created_at``. ``secret_of(credential)`` decrypts the secret, or returns None when it cannot
    (the caller logs why). Raises ``error(code)`` for an inactive platform or a reused nonce, and
    ``ApiError`` for a failed signature check. Returns the credential.
    """
    now = timezone.now()

    def secret_lookup(key_id: str):
        credential = credential_model.objects.select_related("platform").filter(key_id=key_id).first()
        if credential is None or not credential.is_valid(now):
            return None
        secret = secret_of(credential)
        return None if secret is None else (secret, credential)

    signed = signed_request_verify(request=request, secret_lookup=secret_lookup)
    credential = signed.credential
    if not credential.platform.active:
        raise error("platform_inactive")
    # Only a correctly signed request may use up a nonce.
    try:
        with transaction.atomic():
            nonce_model.objects.create(platform=credential.platform, nonce=signed.nonce, created_at=now)
    except IntegrityError:
        raise error("nonce_reused") from None
    if credential.last_used_at is None or credential.last_used_at < now - LAST_USED_RESOLUTION:
        credential_model.objects.filter(pk=credential.pk).update(last_used_at=now)
    return credential
