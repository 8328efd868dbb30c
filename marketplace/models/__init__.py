"""Marketplace models: the catalog (``catalog.py``), buying (``buying.py``) and webhooks (``webhooks.py``)."""

from marketplace.models.assessment import Assessor, AssessorInstitution, CompetencyAssessment
from marketplace.models.buying import Completion, Purchase, Voucher
from marketplace.models.catalog import (
    SHUFFLE_MODULUS,
    ApiIdempotencyRecord,
    ApiNonce,
    CatalogVersion,
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
from marketplace.models.webhooks import WebhookDelivery

__all__ = [
    "SHUFFLE_MODULUS",
    "ApiIdempotencyRecord",
    "ApiNonce",
    "Assessor",
    "AssessorInstitution",
    "CompetencyAssessment",
    "CatalogVersion",
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
    "WebhookDelivery",
    "new_shuffle_key",
    "nib_validator",
    "provider_document_path",
]
