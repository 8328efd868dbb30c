"""Money services, one module per part: the ledger, entitlements, payouts and batches.

The public names are re-exported here, so ``from disbursement.services import ledger_credit`` keeps working.
"""

from disbursement.services.entitlements import (
    entitlements_hold_for_owner,
    entitlements_schedule,
)
from disbursement.services.ledger import (
    ANALYZE_AFTER,
    BULK_LOCK_KEY,
    BULK_STAGE_TABLE,
    AlreadyReversed,
    BulkResult,
    IdempotencyConflict,
    InsufficientFunds,
    LedgerError,
    ledger_account_open,
    ledger_accounts_open_bulk,
    ledger_bulk_key,
    ledger_credit,
    ledger_credit_bulk,
    ledger_debit,
    ledger_forfeit,
    ledger_forfeit_bulk,
    ledger_programme_account_open,
    ledger_reverse,
    ledger_transfer,
)

__all__ = [
    "ANALYZE_AFTER",
    "BULK_LOCK_KEY",
    "BULK_STAGE_TABLE",
    "AlreadyReversed",
    "BulkResult",
    "IdempotencyConflict",
    "InsufficientFunds",
    "LedgerError",
    "entitlements_hold_for_owner",
    "entitlements_schedule",
    "ledger_account_open",
    "ledger_accounts_open_bulk",
    "ledger_bulk_key",
    "ledger_credit",
    "ledger_credit_bulk",
    "ledger_debit",
    "ledger_forfeit",
    "ledger_forfeit_bulk",
    "ledger_programme_account_open",
    "ledger_reverse",
    "ledger_transfer",
]
