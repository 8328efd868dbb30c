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
