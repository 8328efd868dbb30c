"""A KYC Reviewer's decisions on cases in the review queue (audited)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kyc.enums import CaseStatus, Decision, RejectReason, Verdict
from kyc.models import (
    KycCase,
    KycSubmission,
)
from kyc.services.common import (
    REVIEW_PERMISSION,
    KycError,
    _case_reopen,
    _case_to_rejected,
    _case_to_verified,
    _duplicate_lock,
    _notify,
    _verified_face_store,
)
from prakerja.audit import audit_log

logger = logging.getLogger(__name__)


def _reviewer_check(reviewer) -> None:
    if not (reviewer and reviewer.is_active and reviewer.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied("KYC review permission required")


def kyc_case_decide(
    *, case_id: int, reviewer, decision: str, reject_reason: str = "", note: str = ""
) -> KycCase:
    """A KYC Reviewer's decision on a case in review: approve, reject or ask for new photos. Audited."""
    _reviewer_check(reviewer)
    if decision == Decision.REJECT and reject_reason not in RejectReason.values:
        raise KycError(_("Choose why the case is rejected."))
    if decision == Decision.REJECT and reject_reason == RejectReason.OTHER and not note.strip():
        raise KycError(_("Explain the rejection in the note."))
    with transaction.atomic():
        case = (
            KycCase.objects.select_for_update(of=("self",))
            .select_related("latest_submission")
            .get(id=case_id)
        )
        if case.status != CaseStatus.REVIEW:
            raise KycError(
                _("This case is no longer waiting for review (it is now: %(status)s).")
                % {"status": case.get_status_display()}
            )
        submission = case.latest_submission
        duplicates = list(
            submission.duplicate_candidates.values_list("other_applicant_id", "distance")
            if submission
            else []
        )
        if decision == Decision.APPROVE:
            if submission is None or submission.selfie_encoding is None:
                raise KycError(
                    _(
                        "The latest selfie has no usable face, so it cannot be approved. Ask for new photos instead."
                    )
                )
            _duplicate_lock()
            changed = _case_to_verified(case, by=reviewer, note=note)
            if changed:
                _verified_face_store(case=case, submission=submission)
            verdict = Verdict.VERIFIED
        elif decision == Decision.REJECT:
            changed = _case_to_rejected(case, by=reviewer, reason=reject_reason, note=note)
            verdict = Verdict.REJECTED
        elif decision == Decision.RETRY:
            changed = _case_reopen(case, by=reviewer, note=note)
            case.refresh_from_db(fields=["extra_attempts"])
            verdict = Verdict.REJECTED
        else:
            raise KycError(_("Unknown decision."))
        if not changed:
            raise KycError(_("Someone else decided this case a moment ago."))
        if submission is not None:
            KycSubmission.objects.filter(id=submission.id).update(
                verdict=verdict, decided_at=timezone.now(), decided_by=reviewer
            )
        audit_log(
            actor=reviewer,
            action=f"kyc.case_{decision}",
            obj=case,
            data={
                "submission": submission.id if submission else None,
                "system_verdict": submission.system_verdict if submission else "",
                "distance": None
                if submission is None or submission.distance is None
                else round(submission.distance, 4),
                "review_reason": case.review_reason,
                "duplicates": [{"applicant": other, "distance": round(d, 4)} for other, d in duplicates],
                "reject_reason": reject_reason if decision == Decision.REJECT else "",
                "note": note,
            },
        )
        _notify(case, key=f"kyc:case{case.id}:{decision}:{case.status_changed_at.timestamp()}")
    return case
