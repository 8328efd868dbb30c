"""A digital platform's side of the API, over HTTP: used by ``manage.py platform_simulator`` and the benchmark.

``PlatformClient`` signs each request (``api/signing.py``), sends an
``Idempotency-Key`` with every POST, and retries a request whose answer was
lost (connection error, 5xx) with the *same* key, as a real platform should.

The participant's SMS code cannot travel over HTTP (only the participant sees
it). ``code_from_database`` finds it when the simulator runs on the same
machine as the portal, with the same ``DATABASE_URL`` and ``SECRET_KEY``
(development only): the SMS text while it waits in the outbox, otherwise the
code is recovered from its stored HMAC by trying all 1,000,000 six-digit codes
(about a second; possible only with the server's secret key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass

import requests

from marketplace.api import signing

API_PREFIX = "/api/platform/v1"
RETRIES = 3


class ApiCallFailed(Exception):
    def __init__(self, status: int, body: dict):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "")
        self.details = error.get("details", {})
        super().__init__(f"{status} {self.code}: {error.get('message', body)}")


@dataclass
class PlatformClient:
    base_url: str
    key_id: str
    secret: str
    timeout: float = 30.0
    session: requests.Session | None = None

    def __post_init__(self):
        self.base_url = self.base_url.rstrip("/")
        self.session = self.session or requests.Session()

    def call(
        self, method: str, path: str, body: dict | None = None, *, idempotency_key: str | None = None
    ) -> dict:
        """One API call; returns the JSON body of a 2xx answer or raises ``ApiCallFailed``."""
        full_path = f"{API_PREFIX}{path}"
        data = json.dumps(body).encode() if body is not None else b""
        if method != "GET" and idempotency_key is None:
            idempotency_key = f"sim-{secrets.token_hex(12)}"
        for attempt in range(RETRIES):
            headers = signing.signed_headers(
                key_id=self.key_id, secret=self.secret, method=method, path=full_path, body=data
            )
            headers["Content-Type"] = "application/json"
            headers["Accept-Language"] = "en"
            if idempotency_key:
                headers[signing.HEADER_IDEMPOTENCY_KEY] = idempotency_key
            try:
                response = self.session.request(
                    method, f"{self.base_url}{full_path}", data=data, headers=headers, timeout=self.timeout
                )
            except requests.ConnectionError:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
                continue
            if response.status_code >= 500 and attempt < RETRIES - 1:
                time.sleep(0.5 * (attempt + 1))
                continue
            try:
                payload = response.json()
            except ValueError:
                payload = {"error": {"code": "", "message": response.text[:200]}}
            if response.status_code >= 400:
                raise ApiCallFailed(response.status_code, payload)
            return payload
        raise AssertionError("unreachable")

    # The flow, one method per call.
    def ping(self) -> dict:
        return self.call("GET", "/ping")

    def listings(self, *, sku: str | None = None, limit: int = 100) -> list[dict]:
        query = f"?limit={limit}" + (f"&sku={sku}" if sku else "")
        return self.call("GET", f"/listings{query}")["results"]

    def purchase_start(self, *, card_number: str, listing_id: int, session_id: int | None = None) -> dict:
        body = {"card_number": card_number, "listing_id": listing_id}
        if session_id:
            body["session_id"] = session_id
        return self.call("POST", "/purchases", body)

    def purchase_confirm(self, *, purchase_id: int, code: str) -> dict:
        return self.call("POST", f"/purchases/{purchase_id}/confirm", {"code": code})

    def voucher(self, code: str) -> dict:
        return self.call("GET", f"/vouchers/{code}")

    def redeem(self, code: str, *, provider_id: int | None = None) -> dict:
        return self.call(
            "POST", f"/vouchers/{code}/redeem", {"provider_id": provider_id} if provider_id else {}
        )

    def complete(self, code: str, *, certificate_number: str, score: int) -> dict:
        return self.call(
            "POST", f"/vouchers/{code}/complete", {"certificate_number": certificate_number, "score": score}
        )

    def cancel(self, code: str, *, reason: str = "") -> dict:
        return self.call("POST", f"/vouchers/{code}/cancel", {"reason": reason} if reason else {})


SMS_CODE = re.compile(r"\b(\d{6})\b")


def code_from_database(*, purchase_id: int) -> str:
    """The SMS code sent for ``purchase_id``, read on the portal's own machine (development only)."""
    # The simulator imports no Django (it plays a platform, outside the portal); only this
    # development helper reads the portal's database.
    from django.conf import settings

    from marketplace.models import Purchase
    from prakerja.enums import NotificationChannel
    from prakerja.models import Notification, OneTimeCode

    purchase = Purchase.objects.get(pk=purchase_id)
    row = OneTimeCode.objects.get(pk=purchase.otp_code_id)
    waiting = (
        Notification.objects.filter(
            user_id=row.user_id,
            channel=NotificationChannel.SMS,
            recipient=row.phone,
            created_at__gte=row.created_at,
        )
        .exclude(body="")
        .order_by("created_at")
        .first()
    )
    if waiting is not None:
        found = SMS_CODE.search(waiting.body)
        if found:
            return found.group(1)
    # prakerja.otp stores salted_hmac("prakerja.otp", "user:purpose:phone:code") with SECRET_KEY.
    key = hashlib.sha256(b"prakerja.otp" + settings.SECRET_KEY.encode()).digest()
    base = hmac.new(key, f"{row.user_id}:{row.purpose}:{row.phone}:".encode(), hashlib.sha256)
    target = row.code_hash
    for number in range(1_000_000):
        candidate = f"{number:06d}"
        attempt = base.copy()
        attempt.update(candidate.encode())
        if attempt.hexdigest() == target:
            return candidate
    raise LookupError("the code cannot be found: is this the portal's database and SECRET_KEY?")
