"""Request signing for the platform API, shared by the server and clients.

A platform signs each request with its secret:

    string to sign = "PRAKERJA-HMAC-SHA256" LF method LF path LF timestamp LF nonce LF sha256_hex(body)
    signature      = hex(HMAC-SHA256(secret, string to sign))

``method`` is upper case; ``path`` is the path as sent, with the query string
as sent (``/api/platform/v1/listings?limit=10``); ``timestamp`` is Unix time in
seconds; ``nonce`` is 16-64 characters of ``A-Z a-z 0-9 _ -``, never reused.
The headers are X-Prakerja-Key-Id, X-Prakerja-Timestamp, X-Prakerja-Nonce and
X-Prakerja-Signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

ALGORITHM = "PRAKERJA-HMAC-SHA256"
HEADER_KEY_ID = "X-Prakerja-Key-Id"
HEADER_TIMESTAMP = "X-Prakerja-Timestamp"
HEADER_NONCE = "X-Prakerja-Nonce"
HEADER_SIGNATURE = "X-Prakerja-Signature"
HEADER_IDEMPOTENCY_KEY = "Idempotency-Key"


def string_to_sign(*, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    body_hash = hashlib.sha256(body or b"").hexdigest()
    return "\n".join([ALGORITHM, method.upper(), path, timestamp, nonce, body_hash])


def signature(*, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method=method, path=path, timestamp=timestamp, nonce=nonce, body=body)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    *,
    key_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four authentication headers for one request."""
    timestamp_text = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    return {
        HEADER_KEY_ID: key_id,
        HEADER_TIMESTAMP: timestamp_text,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(
            secret=secret, method=method, path=path, timestamp=timestamp_text, nonce=nonce, body=body
        ),
    }
