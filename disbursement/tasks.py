from __future__ import annotations

import logging

from celery import shared_task

from disbursement.selectors import ledger_check

logger = logging.getLogger(__name__)


@shared_task(name="disbursement.ledger_check")
def ledger_check_task() -> bool:
    """Nightly proof that the ledger adds up; an ERROR log line (and alert) when it does not."""
    result = ledger_check()
    if result.ok:
        logger.info(
            "ledger check OK: %d accounts, %d movements", result.accounts_checked, result.movements_checked
        )
    else:
        logger.error(
            "ledger check FAILED: %d balance mismatches (first: %s), %d unbalanced movements (first: %s), "
            "entries sum to %d",
            result.balance_mismatch_count,
            [m.account_id for m in result.balance_mismatches],
            result.unbalanced_movement_count,
            result.unbalanced_movement_ids,
            result.entries_sum,
        )
    return result.ok
