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
