"""The portal's side of the partner protocol (``openapi.yaml``): signed HTTP calls with timeouts.

Errors are split by what the caller should do next: ``PartnerUnavailable`` (timeout, connection
error, 5xx, 429: the request may have arrived, so retry with the *same* idempotency key) and
``PartnerRejected`` (4xx: the partner's answer will not change). The client itself never retries a
money-moving call: the caller (a Celery task) retries with backoff and the partner dedupes.

Logs name the reference and a masked account number, never a secret, a NIK or a full account number.
"""

from __future__ import annotations

import datetime
import json
import logging
from urllib.parse import quote

import requests

from disbursement.gateway import protocol
from disbursement.gateway.errors import PartnerRejected, PartnerUnavailable
from disbursement.gateway.results import BulkItemResult, DisbursementResult, InquiryResult
from prakerja.masking import mask_identifier

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 3.0
TRANSIENT_STATUSES = {408, 425, 429}


class PartnerClient:
    def __init__(
        self,
        *,
        base_url: str,
        key_id: str,
        secret: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self._secret = secret
        # (connect, read): an unreachable partner fails fast, a slow one gets the full read timeout.
        self.timeout = (min(CONNECT_TIMEOUT_SECONDS, timeout), timeout)
        self.session = session or requests.Session()

    def __repr__(self) -> str:  # never show the secret
        return f"PartnerClient(base_url={self.base_url!r}, key_id={self.key_id!r})"

    # --- operations ---------------------------------------------------------------------------

    def account_inquiry(self, *, channel: str, account_number: str, nik: str) -> InquiryResult:
        data = self._call(
            "POST",
            "/account-inquiries",
            {"channel": channel, "account_number": account_number, "nik": nik},
            log_name=f"inquiry {channel} {mask_identifier(account_number)}",
        )
        return InquiryResult(
            exists=bool(data.get("exists")),
            holder_name=str(data.get("holder_name") or ""),
            nik_match=bool(data.get("nik_match")),
        )

    def disbursement_create(
        self,
        *,
        idempotency_key: str,
        reference: str,
        channel: str,
        account_number: str,
        amount: int,
        description: str,
        callback_url: str,
    ) -> DisbursementResult:
        body = {
            "reference": reference,
            "channel": channel,
            "account_number": account_number,
            "amount": int(amount),
            "currency": "IDR",
            "description": description,
            "callback_url": callback_url,
        }
        data = self._call(
            "POST",
            "/disbursements",
            body,
            idempotency_key=idempotency_key,
            log_name=f"disbursement {reference} to {channel} {mask_identifier(account_number)}",
        )
        return _disbursement_result(data)

    def disbursements_create_bulk(self, *, items: list[dict]) -> list[BulkItemResult]:
        """Create many disbursements in one request (``POST /v1/disbursement-batches``).

        Each item is a ``disbursement_create`` keyword set (``idempotency_key``, ``reference``, ...); the
        partner dedupes each on its own key. Returns one result per item, in order. The whole call raises
        ``PartnerUnavailable`` (retry every item with the same keys) or ``PartnerRejected``.
        """
        if not 1 <= len(items) <= protocol.BULK_MAX_ITEMS:
            raise ValueError(f"a bulk create carries 1-{protocol.BULK_MAX_ITEMS} disbursements")
        body = {
            "disbursements": [
                {
                    "idempotency_key": item["idempotency_key"],
                    "reference": item["reference"],
                    "channel": item["channel"],
                    "account_number": item["account_number"],
                    "amount": int(item["amount"]),
                    "currency": "IDR",
                    "description": item["description"],
                    "callback_url": item["callback_url"],
                }
                for item in items
            ]
        }
        data = self._call(
            "POST", "/disbursement-batches", body, log_name=f"bulk create of {len(items)} disbursements"
        )
        results = data.get("results")
        if not isinstance(results, list) or len(results) != len(items):
            raise PartnerUnavailable("invalid_response")
        out = []
        for item, result in zip(items, results, strict=True):
            if not isinstance(result, dict) or result.get("idempotency_key") != item["idempotency_key"]:
                raise PartnerUnavailable("invalid_response")
            status = result.get("status_code")
            if status in (200, 201) and isinstance(result.get("disbursement"), dict):
                out.append(
                    BulkItemResult(item["idempotency_key"], _disbursement_result(result["disbursement"]))
                )
                continue
            error = result.get("error") if isinstance(result.get("error"), dict) else {}
            code = str(error.get("code") or f"http_{status}")[:64]
            out.append(
                BulkItemResult(
                    item["idempotency_key"],
                    None,
                    error_code=code,
                    transient=not isinstance(status, int) or status >= 500 or status in TRANSIENT_STATUSES,
                )
            )
        return out

    def disbursements_status_bulk(self, *, references: list[str]) -> dict[str, DisbursementResult]:
        """Status inquiry for many references (``POST /v1/disbursement-inquiries``); a reference the
        partner does not know is absent from the answer."""
        if not 1 <= len(references) <= protocol.BULK_MAX_ITEMS:
            raise ValueError(f"a bulk inquiry asks about 1-{protocol.BULK_MAX_ITEMS} references")
        data = self._call(
            "POST",
            "/disbursement-inquiries",
            {"references": list(references)},
            log_name=f"bulk status of {len(references)} disbursements",
        )
        rows = data.get("disbursements")
        if not isinstance(rows, list):
            raise PartnerUnavailable("invalid_response")
        results = {}
        for row in rows:
            if not isinstance(row, dict):
                raise PartnerUnavailable("invalid_response")
            result = _disbursement_result(row)
            results[result.reference] = result
        return results

    def disbursement_status(self, *, reference: str) -> DisbursementResult:
        data = self._call(
            "GET", f"/disbursements/{quote(reference, safe='')}", None, log_name=f"status {reference}"
        )
        return _disbursement_result(data)

    def statement(self, *, day: datetime.date) -> bytes:
        return self._call(
            "GET", f"/statements/{day.isoformat()}", None, raw=True, log_name=f"statement {day}"
        )

    # --- transport ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: dict | None,
        *,
        idempotency_key: str | None = None,
        raw: bool = False,
        log_name: str = "",
    ):
        full_path = f"{protocol.API_PREFIX}{path}"
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        headers = protocol.SCHEME.signed_headers(
            key_id=self.key_id, secret=self._secret, method=method, path=full_path, body=data
        )
        headers["Accept"] = "text/csv" if raw else "application/json"
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers[protocol.HEADER_IDEMPOTENCY_KEY] = idempotency_key
        try:
            response = self.session.request(
                method, f"{self.base_url}{full_path}", data=data, headers=headers, timeout=self.timeout
            )
        except requests.Timeout:
            logger.warning("payment partner: %s timed out", log_name)
            raise PartnerUnavailable("timeout") from None
        except requests.RequestException as exc:
            logger.warning("payment partner: %s failed: %s", log_name, type(exc).__name__)
            raise PartnerUnavailable("connection_error") from None
        status = response.status_code
        if status >= 500 or status in TRANSIENT_STATUSES:
            logger.warning("payment partner: %s answered HTTP %s", log_name, status)
            raise PartnerUnavailable(_error_code(response) or f"http_{status}", status=status)
        if status >= 400:
            code = _error_code(response) or f"http_{status}"
            logger.warning("payment partner: %s refused: HTTP %s %s", log_name, status, code)
            raise PartnerRejected(code, status=status)
        if raw:
            return response.content
        try:
            payload = response.json()
        except ValueError:
            logger.warning("payment partner: %s answered HTTP %s without JSON", log_name, status)
            raise PartnerUnavailable("invalid_response", status=status) from None
        if not isinstance(payload, dict):
            raise PartnerUnavailable("invalid_response", status=status)
        return payload


def _error_code(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code)[:64] if code else ""


def _disbursement_result(data: dict) -> DisbursementResult:
    status = data.get("status")
    if status not in protocol.STATUSES or not data.get("reference"):
        raise PartnerUnavailable("invalid_response")
    amount = data.get("amount")
    return DisbursementResult(
        reference=str(data["reference"]),
        status=status,
        failure_code=str(data.get("failure_code") or ""),
        partner_id=str(data.get("partner_id") or ""),
        amount=int(amount) if isinstance(amount, int) else None,
    )
