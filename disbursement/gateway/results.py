from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InquiryResult:
    exists: bool
    holder_name: str
    nik_match: bool


@dataclass(frozen=True)
class DisbursementResult:
    reference: str
    status: str  # "accepted" | "paid" | "failed"
    failure_code: str = ""
    partner_id: str = ""
    amount: int | None = None


@dataclass(frozen=True)
class BulkItemResult:
    """One item of a bulk create: the partner's disbursement, or why this item was not taken."""

    idempotency_key: str
    result: DisbursementResult | None
    error_code: str = ""
    transient: bool = False  # a 5xx/429 for this item: send it again with the same key
