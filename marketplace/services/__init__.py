"""Marketplace services: every write that matters. Other apps call these.

The buying half (purchases, vouchers, redeem, completion) will add
``purchases.py`` here.
"""

from marketplace.services.listings import listing_update
from marketplace.services.platforms import (
    IssuedCredential,
    api_records_cleanup,
    platform_credential_issue,
    platform_credentials_revoke,
)
from marketplace.services.providers import (
    DeclaredAffiliation,
    DocumentUpload,
    ProviderApplication,
    provider_affiliation_record,
    provider_affiliation_remove,
    provider_apply,
    provider_reinstate,
    provider_reject,
    provider_suspend,
    provider_upload_stash_cleanup,
    provider_verify,
)
from marketplace.services.trainings import (
    training_approve,
    training_problems,
    training_rating_set,
    training_reject,
    training_reopen,
    training_submit,
)

__all__ = [
    "DeclaredAffiliation",
    "DocumentUpload",
    "IssuedCredential",
    "ProviderApplication",
    "api_records_cleanup",
    "listing_update",
    "platform_credential_issue",
    "platform_credentials_revoke",
    "provider_affiliation_record",
    "provider_affiliation_remove",
    "provider_apply",
    "provider_reinstate",
    "provider_reject",
    "provider_suspend",
    "provider_upload_stash_cleanup",
    "provider_verify",
    "training_approve",
    "training_problems",
    "training_rating_set",
    "training_reject",
    "training_reopen",
    "training_submit",
]
