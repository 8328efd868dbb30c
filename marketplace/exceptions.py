"""Errors raised by marketplace services. Each carries a stable code for the API."""

from __future__ import annotations


class MarketplaceError(Exception):
    code = "marketplace_error"

    def __init__(self, message, *, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code


class TransitionNotAllowed(MarketplaceError):
    """The object is no longer in the state the move starts from (someone else got there first)."""

    code = "transition_not_allowed"


class PriceNotAllowed(MarketplaceError):
    code = "price_not_allowed"


class NibTaken(MarketplaceError):
    code = "nib_taken"


class PurchaseRefused(MarketplaceError):
    """A purchase that cannot start or be confirmed. ``code`` is one of the API error codes:

    card_not_usable, listing_unavailable, session_invalid, insufficient_balance, price_changed,
    already_bought, purchase_expired, code_wrong, code_expired, code_attempts_exceeded, code_rate_limited.
    """

    code = "purchase_refused"

    def __init__(self, message, *, code: str, retry_after: int = 0, attempts_left: int | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.attempts_left = attempts_left


class VoucherRefused(MarketplaceError):
    """A voucher operation that is not possible. ``code`` is one of the API error codes:

    voucher_not_found, voucher_other_platform, voucher_other_provider, voucher_already_redeemed,
    voucher_cancelled, redeem_outside_window, voucher_not_redeemed, voucher_already_completed,
    certificate_number_taken, card_not_usable.
    """

    code = "voucher_refused"

    def __init__(self, message, *, code: str, details: dict | None = None):
        super().__init__(message, code=code)
        self.details = details or {}
