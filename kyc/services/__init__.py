"""KYC operations: uploads, verification in the worker, reviewer decisions, retention.

Views, admin, tasks, commands and other apps call these functions; they hold the rules.
"""

from kyc.services.common import (
    DRAFT_MAX_AGE,
    DUPLICATE_LOCK_KEY,
    MAX_PROCESSING_ATTEMPTS,
    REVIEW_PERMISSION,
    UPLOAD_STATUSES,
    KycError,
    PhotoRejected,
    UploadNotAllowed,
)
from kyc.services.retention import kyc_photos_purge
from kyc.services.review import kyc_case_decide
from kyc.services.uploads import (
    draft_load,
    draft_name,
    draft_save,
    drafts_clear,
    drafts_purge,
    kyc_case_get_or_create,
    kyc_photo_prepare,
    kyc_submission_create,
    kyc_upload_blocker,
)
from kyc.services.verification import (
    VerifyOutcome,
    kyc_duplicates_find,
    kyc_face_index_update,
    kyc_submission_verify,
    kyc_sweep,
)

__all__ = [
    "DRAFT_MAX_AGE",
    "DUPLICATE_LOCK_KEY",
    "MAX_PROCESSING_ATTEMPTS",
    "REVIEW_PERMISSION",
    "UPLOAD_STATUSES",
    "KycError",
    "PhotoRejected",
    "UploadNotAllowed",
    "VerifyOutcome",
    "draft_load",
    "draft_name",
    "draft_save",
    "drafts_clear",
    "drafts_purge",
    "kyc_case_decide",
    "kyc_case_get_or_create",
    "kyc_duplicates_find",
    "kyc_face_index_update",
    "kyc_photo_prepare",
    "kyc_photos_purge",
    "kyc_submission_create",
    "kyc_submission_verify",
    "kyc_sweep",
    "kyc_upload_blocker",
]
