"""HMAC-SHA256 request signing shared by the APIs the portal speaks (platform API, payment partners).

One scheme, parametrised by an algorithm label and a header prefix:

    string to sign = ALGORITHM LF method LF path LF timestamp LF nonce LF sha256_hex(body)
    signature      = hex(HMAC-SHA256(secret, string to sign))

``timestamp`` is Unix time in seconds and ``nonce`` 16-64 characters of
``A-Z a-z 0-9 _ -`` that a receiver refuses to see twice within its clock skew
window. ``marketplace.api.signing`` is the platform API's flavour of the same
idea; ``disbursement.gateway.protocol`` the payment partners'.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class SigningScheme:
    algorithm: str
    header_prefix: str  # e.g. "X-Partner-" gives X-Partner-Key-Id, -Timestamp, -Nonce, -Signature

    @property
    def key_id_header(self) -> str:
        return f"{self.header_prefix}Key-Id"

    @property
    def timestamp_header(self) -> str:
        return f"{self.header_prefix}Timestamp"

    @property
    def nonce_header(self) -> str:
        return f"{self.header_prefix}Nonce"

    @property
    def signature_header(self) -> str:
        return f"{self.header_prefix}Signature"

    def string_to_sign(self, *, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
        body_hash = hashlib.sha256(body or b"").hexdigest()
        return "\n".join([self.algorithm, method.upper(), path, timestamp, nonce, body_hash])

    def signature(
        self, *, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
    ) -> str:
        message = self.string_to_sign(method=method, path=path, timestamp=timestamp, nonce=nonce, body=body)
        return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()

    def signed_headers(
        self,
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
            self.key_id_header: key_id,
            self.timestamp_header: timestamp_text,
            self.nonce_header: nonce,
            self.signature_header: self.signature(
                secret=secret, method=method, path=path, timestamp=timestamp_text, nonce=nonce, body=body
            ),
        }

    def check(
        self,
        *,
        secret: str,
        headers,
        method: str,
        path: str,
        body: bytes,
        max_skew_seconds: int,
        now: float | None = None,
    ) -> str | None:
        """None when the headers carry a valid signature, else an error code.

        Codes: ``auth_missing``, ``timestamp_invalid``, ``nonce_invalid``, ``signature_invalid``.
        The caller still has to refuse a nonce it has seen (replay).
        """
        timestamp = headers.get(self.timestamp_header, "") or ""
        nonce = headers.get(self.nonce_header, "") or ""
        given = headers.get(self.signature_header, "") or ""
        if not (timestamp and nonce and given):
            return "auth_missing"
        now = time.time() if now is None else now
        if not timestamp.isdigit() or abs(now - int(timestamp)) > max_skew_seconds:
            return "timestamp_invalid"
        if not NONCE_PATTERN.match(nonce):
            return "nonce_invalid"
        expected = self.signature(
            secret=secret, method=method, path=path, timestamp=timestamp, nonce=nonce, body=body
        )
        if not hmac.compare_digest(expected, given.lower()):
            return "signature_invalid"
        return None
