"""Marketplace services: every write that matters. Other apps call these.

Catalog: platforms, providers, trainings, listings. Buying: ``purchases.py``
(start, confirm with the SMS code, pay) and ``vouchers.py`` (redeem, cancel
with a refund, completion).
"""

from marketplace.services.api_signing import SignedRequest, signed_path, signed_request_verify
from marketplace.services.listings import (
    ListingRefused,
    ListingRow,
    listing_create,
    listing_update,
    listings_import,
)
from marketplace.services.platforms import (
    PLATFORM_FIELDS,
    IssuedCredential,
    api_records_cleanup,
    platform_credential_issue,
    platform_credentials_revoke,
    platform_save,
)
from marketplace.services.providers import (
    PROVIDER_DETAIL_FIELDS,
    DeclaredAffiliation,
    DocumentUpload,
    ProviderApplication,
    provider_affiliation_record,
    provider_affiliation_remove,
    provider_apply,
    provider_details_set,
    provider_reinstate,
    provider_reject,
    provider_suspend,
    provider_upload_stash_cleanup,
    provider_verify,
)
from marketplace.services.purchases import (
    PurchaseStarted,
    platform_payable_account,
    purchase_code_resend,
    purchase_confirm,
    purchase_start,
    purchases_expire_stale,
)
from marketplace.services.trainings import (
    training_approve,
    training_draft_save,
    training_problems,
    training_rating_set,
    training_ratings_set_bulk,
    training_reject,
    training_reopen,
    training_submit,
)
from marketplace.services.vouchers import (
    RedeemWindow,
    completion_record,
    redeem_window,
    voucher_cancel,
    voucher_find,
    voucher_redeem,
)

__all__ = [
    "SignedRequest",
    "signed_path",
    "signed_request_verify",
    "DeclaredAffiliation",
    "DocumentUpload",
    "IssuedCredential",
    "ProviderApplication",
    "PurchaseStarted",
    "RedeemWindow",
    "api_records_cleanup",
    "completion_record",
    "ListingRefused",
    "ListingRow",
    "listing_create",
    "listing_update",
    "listings_import",
    "platform_payable_account",
    "platform_credential_issue",
    "platform_credentials_revoke",
    "PLATFORM_FIELDS",
    "platform_save",
    "provider_affiliation_record",
    "provider_affiliation_remove",
    "provider_apply",
    "PROVIDER_DETAIL_FIELDS",
    "provider_details_set",
    "provider_reinstate",
    "provider_reject",
    "provider_suspend",
    "provider_upload_stash_cleanup",
    "provider_verify",
    "purchase_code_resend",
    "purchase_confirm",
    "purchase_start",
    "purchases_expire_stale",
    "redeem_window",
    "training_approve",
    "training_draft_save",
    "training_problems",
    "training_rating_set",
    "training_ratings_set_bulk",
    "training_reject",
    "training_reopen",
    "training_submit",
    "voucher_cancel",
    "voucher_find",
    "voucher_redeem",
]
