"""The payment partner protocol in code: names shared by the client, the simulator and the callback view.

``openapi.yaml`` beside this file is the contract; this module holds what both sides must spell alike.
"""

from __future__ import annotations

import json
import secrets
import time

from prakerja.signing import SigningScheme

API_PREFIX = "/v1"
SCHEME = SigningScheme(algorithm="PRAKERJA-PAYOUT-HMAC-SHA256", header_prefix="X-Partner-")
HEADER_IDEMPOTENCY_KEY = "Idempotency-Key"
HEADER_REPLAYED = "Idempotent-Replayed"

# A callback is signed like a request, with method POST and this fixed path: the partner cannot know
# which path a proxy in front of the portal will show, and the body names the disbursement.
CALLBACK_METHOD = "POST"
CALLBACK_PATH = "callback"

# Most items in one bulk create (``POST /v1/disbursement-batches``) or bulk status inquiry.
BULK_MAX_ITEMS = 1000

CHANNELS = ("bni", "bni_va", "ovo", "gopay", "linkaja", "dana")

ACCEPTED = "accepted"
PAID = "paid"
FAILED = "failed"
STATUSES = (ACCEPTED, PAID, FAILED)
FINAL_STATUSES = (PAID, FAILED)

# The daily statement (text/csv, UTF-8, header row, comma separated).
STATEMENT_COLUMNS = (
    "reference",
    "partner_id",
    "channel",
    "account_number",
    "amount",
    "status",
    "failure_code",
    "created_at",
    "completed_at",
)


def callback_body(
    *,
    event_id: str,
    reference: str,
    partner_id: str,
    status: str,
    amount: int,
    failure_code: str = "",
    occurred_at: int | None = None,
) -> bytes:
    payload = {
        "event": "disbursement.status",
        "event_id": event_id,
        "reference": reference,
        "partner_id": partner_id,
        "status": status,
        "amount": amount,
        "failure_code": failure_code,
        "occurred_at": int(time.time()) if occurred_at is None else occurred_at,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def callback_headers(
    *, key_id: str, secret: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    headers = SCHEME.signed_headers(
        key_id=key_id,
        secret=secret,
        method=CALLBACK_METHOD,
        path=CALLBACK_PATH,
        body=body,
        timestamp=timestamp,
        nonce=secrets.token_urlsafe(18),
    )
    headers["Content-Type"] = "application/json"
    return headers
