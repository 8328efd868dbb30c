"""Marketplace models: the catalog (``catalog.py``) and buying (``buying.py``)."""

from marketplace.models.buying import Completion, Purchase, Voucher
from marketplace.models.catalog import (
    SHUFFLE_MODULUS,
    ApiIdempotencyRecord,
    ApiNonce,
    Listing,
    Platform,
    PlatformCredential,
    Provider,
    ProviderAffiliation,
    ProviderDocument,
    Training,
    TrainingSession,
    new_shuffle_key,
    nib_validator,
    provider_document_path,
)

__all__ = [
    "SHUFFLE_MODULUS",
    "ApiIdempotencyRecord",
    "ApiNonce",
    "Completion",
    "Listing",
    "Platform",
    "PlatformCredential",
    "Provider",
    "ProviderAffiliation",
    "ProviderDocument",
    "Purchase",
    "Training",
    "TrainingSession",
    "Voucher",
    "new_shuffle_key",
    "nib_validator",
    "provider_document_path",
]
