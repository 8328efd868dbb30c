"""Checking a partner's callback before anything looks at it."""

from __future__ import annotations

import json

from disbursement.gateway import protocol
from disbursement.gateway.errors import CallbackInvalid


def callback_verify(*, secret: str, headers, body: bytes, max_skew_seconds: int = 300) -> dict:
    """The callback's JSON payload when it carries the partner's signature and a fresh timestamp.

    Raises ``CallbackInvalid`` (code ``auth_missing``, ``timestamp_invalid``, ``nonce_invalid``,
    ``signature_invalid`` or ``payload_invalid``). Refusing a nonce seen before (a replay within the
    skew window) is the caller's job: it needs storage. The payload is still only a hint.
    """
    problem = protocol.SCHEME.check(
        secret=secret,
        headers=headers,
        method=protocol.CALLBACK_METHOD,
        path=protocol.CALLBACK_PATH,
        body=body,
        max_skew_seconds=max_skew_seconds,
    )
    if problem:
        raise CallbackInvalid(problem)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackInvalid("payload_invalid") from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("reference"), str)
        or not payload["reference"]
        or payload.get("status") not in protocol.STATUSES
    ):
        raise CallbackInvalid("payload_invalid")
    return payload
