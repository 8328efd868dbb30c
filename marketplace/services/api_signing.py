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

from django.conf import settings
from django.http import HttpRequest

from marketplace.api import signing
from marketplace.api.errors import ApiError

# Patterns are used with fullmatch (``$`` would let a trailing newline through).
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
SIGNATURE_PATTERN = re.compile(r"[0-9a-fA-F]{64}")


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
