"""The payment partner gateway: protocol (``openapi.yaml``), client, callback check, simulator.

``disbursement`` services use ``PartnerClient`` to talk to a partner and ``callback_verify`` to check
what a partner sends back. ``manage.py payout_simulator`` runs a partner that speaks the protocol.
"""

from disbursement.gateway.callbacks import callback_verify
from disbursement.gateway.client import PartnerClient
from disbursement.gateway.errors import CallbackInvalid, PartnerError, PartnerRejected, PartnerUnavailable
from disbursement.gateway.protocol import CHANNELS
from disbursement.gateway.results import BulkItemResult, DisbursementResult, InquiryResult

__all__ = [
    "BulkItemResult",
    "CHANNELS",
    "CallbackInvalid",
    "DisbursementResult",
    "InquiryResult",
    "PartnerClient",
    "PartnerError",
    "PartnerRejected",
    "PartnerUnavailable",
    "callback_verify",
]
