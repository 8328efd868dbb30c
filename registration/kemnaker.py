"""Kemnaker approval of offline registrations: Disnaker sends, a Kemnaker officer decides.

A person registered at a Disnaker office while the programme requires the approval starts as
``waiting`` with ``kemnaker_hold`` set: the wave rules (``applicant_eligibility`` and the selection's
SQL) keep them out of every wave until a Kemnaker officer approves them. Disnaker gathers the
province's waiting (and returned, once corrected) people into a submission and sends it
(``offline_submission_send``); a Kemnaker officer who did not send it approves it, returning
people with a reason each (``offline_submission_decide``). The people are told by SMS in their
language. Everything here is audited.

The rule itself is a programme setting (``cohorts.Programme.offline_approval_required``, a higher
app): cohorts registers a reader here when it starts (``offline_approval_rule_register``) and calls
``offline_approval_rule_apply`` when officers switch the rule, which sets or lifts the holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prakerja.audit import audit_log
from prakerja.notifications import notify_user
from registration.enums import (
    Channel,
    CivilRegistryStatus,
    ItemDecision,
    KemnakerStatus,
    ReturnReason,
    SubmissionStatus,
)
from registration.models import Applicant, OfflineSubmission, OfflineSubmissionItem

REVIEW_PERMISSION = "registration.review_offlinesubmission"
OPEN_STATUSES = (KemnakerStatus.WAITING, KemnakerStatus.RETURNED)

_rule_reader: Callable[[], bool] | None = None


class SubmissionError(Exception):
    """A refused step, with a message for the officer (already translated lazily)."""

    def __init__(self, message, code: str = "refused"):
        super().__init__(str(message))
        self.message = message
        self.code = code


def offline_approval_rule_register(reader: Callable[[], bool]) -> None:
    """cohorts (which owns the programme settings) tells registration how to read the rule."""
    global _rule_reader
    _rule_reader = reader


def offline_approval_required() -> bool:
    """Whether offline registrations need Kemnaker's approval now (the programme setting)."""
    return True if _rule_reader is None else bool(_rule_reader())


def offline_registration_mark(*, applicant: Applicant) -> None:
    """A new offline registration waits for Kemnaker when the rule is in force. Inside its transaction."""
    if offline_approval_required():
        Applicant.objects.filter(pk=applicant.pk).update(
            kemnaker_status=KemnakerStatus.WAITING, kemnaker_hold=True
        )
        applicant.kemnaker_status, applicant.kemnaker_hold = KemnakerStatus.WAITING, True


def offline_approval_rule_apply(*, required: bool, actor) -> int:
    """Set (rule on) or lift (rule off) the holds of everyone waiting or returned, set-based; audited.

    People approved, or registered while the rule was off, are never held.
    """
    with transaction.atomic():
        if required:
            changed = Applicant.objects.filter(kemnaker_status__in=OPEN_STATUSES, kemnaker_hold=False).update(
                kemnaker_hold=True, updated_at=timezone.now()
            )
        else:
            changed = Applicant.objects.filter(kemnaker_hold=True).update(
                kemnaker_hold=False, updated_at=timezone.now()
            )
        audit_log(
            actor=actor,
            action="registration.kemnaker_rule_applied",
            data={"required": required, "applicants_changed": changed},
        )
    return changed


# --- What the reviewer sees -------------------------------------------------------------------------

ISSUE_LABELS = {
    "civil_not_verified": _("NIK not verified by the civil registry yet"),
    "civil_mismatch": _("data does not match the civil registry"),
    "civil_not_found": _("NIK unknown to the civil registry"),
    "phone_missing": _("no mobile number"),
    "excluded": _("on an exclusion list"),
    "frozen": _("on hold after a NIK-misuse report"),
}
DUPLICATE_LABELS = {
    "phone": _("same mobile number"),
    "name_birth": _("same name and date of birth"),
    "kk_other_province": _("same family card in another province"),
}


def _row_issues(applicant: Applicant) -> list[str]:
    issues = []
    if applicant.civil_status == CivilRegistryStatus.MISMATCH:
        issues.append("civil_mismatch")
    elif applicant.civil_status == CivilRegistryStatus.NOT_FOUND:
        issues.append("civil_not_found")
    elif applicant.civil_status != CivilRegistryStatus.VERIFIED:
        issues.append("civil_not_verified")
    if not applicant.phone:
        issues.append("phone_missing")
    if applicant.is_excluded:
        issues.append("excluded")
    if applicant.frozen_at:
        issues.append("frozen")
    return issues


def _duplicates(applicants: list[Applicant]) -> dict[int, list[dict]]:
    """Other registrations (any province, online or offline) that may be the same person.

    Three set-based queries: the same mobile number, the same name and birth date, the same family
    card in another province. Each hit names the province and channel, never the other NIK.
    """
    ids = [a.pk for a in applicants]
    found: dict[int, list[dict]] = {pk: [] for pk in ids}
    others = Applicant.objects.exclude(pk__in=ids).select_related("province")

    def hit(kind: str, other: Applicant) -> dict:
        return {
            "kind": kind,
            "province": other.province.name if other.province else "",
            "channel": other.channel,
            "applicant_id": other.pk,
        }

    by_phone: dict[str, list[Applicant]] = {}
    for other in others.filter(phone__in={a.phone for a in applicants if a.phone}):
        by_phone.setdefault(other.phone, []).append(other)
    by_name: dict[tuple, list[Applicant]] = {}
    names = {a.full_name for a in applicants if a.full_name}
    for other in others.filter(full_name__in=names, birth_date__in={a.birth_date for a in applicants}):
        by_name.setdefault((other.full_name.upper(), other.birth_date), []).append(other)
    by_kk: dict[str, list[Applicant]] = {}
    for other in others.filter(kk_number__in={a.kk_number for a in applicants if a.kk_number}):
        by_kk.setdefault(other.kk_number, []).append(other)
    for applicant in applicants:
        for other in by_phone.get(applicant.phone, []) if applicant.phone else []:
            found[applicant.pk].append(hit("phone", other))
        for other in by_name.get((applicant.full_name.upper(), applicant.birth_date), []):
            found[applicant.pk].append(hit("name_birth", other))
        for other in by_kk.get(applicant.kk_number, []) if applicant.kk_number else []:
            if other.province_id != applicant.province_id:
                found[applicant.pk].append(hit("kk_other_province", other))
    return found


@dataclass(frozen=True)
class SubmissionCounts:
    people: int
    with_issues: int
    with_duplicates: int
    by_regency: list[tuple[str, int]]
    by_issue: list[tuple[str, int]]


def submission_counts(
    *, submission: OfflineSubmission, items: list[OfflineSubmissionItem]
) -> SubmissionCounts:
    regencies: dict[str, int] = {}
    issues: dict[str, int] = {}
    for item in items:
        name = item.applicant.regency.name if item.applicant.regency else "-"
        regencies[name] = regencies.get(name, 0) + 1
        for code in item.issues:
            issues[code] = issues.get(code, 0) + 1
    return SubmissionCounts(
        people=len(items),
        with_issues=sum(1 for item in items if item.issues),
        with_duplicates=sum(1 for item in items if item.duplicates),
        by_regency=sorted(regencies.items()),
        by_issue=[(str(ISSUE_LABELS.get(code, code)), n) for code, n in sorted(issues.items())],
    )


# --- Disnaker sends ------------------------------------------------------------------------------------


def submission_candidates(*, province_id: str):
    """The province's offline registrations that can be sent: waiting or returned, in no open submission."""
    return (
        Applicant.objects.filter(
            channel=Channel.OFFLINE, province_id=province_id, kemnaker_status__in=OPEN_STATUSES
        )
        .exclude(kemnaker_items__decision=ItemDecision.PENDING)
        .order_by("pk")
    )


def offline_submission_send(*, staff_user) -> OfflineSubmission:
    """Gather the staff member's province's waiting and returned registrations and send them. Audited."""
    staff = getattr(staff_user, "disnaker", None)
    if staff is None or not staff_user.has_perm("registration.register_offline"):
        raise SubmissionError(_("Only Disnaker staff send submissions."), code="not_disnaker")
    if not offline_approval_required():
        raise SubmissionError(
            _("Offline registrations do not need Kemnaker's approval at the moment: nothing to send."),
            code="not_required",
        )
    try:
        with transaction.atomic():
            applicants = list(
                submission_candidates(province_id=staff.province_id)
                .select_for_update(of=("self",))
                .select_related("regency")
            )
            if not applicants:
                raise SubmissionError(
                    _("There is nobody to send: every offline registration is already with Kemnaker."),
                    code="empty",
                )
            duplicates = _duplicates(applicants)
            submission = OfflineSubmission.objects.create(
                province_id=staff.province_id, sent_by=staff_user, person_count=len(applicants)
            )
            OfflineSubmissionItem.objects.bulk_create(
                [
                    OfflineSubmissionItem(
                        submission=submission,
                        applicant=applicant,
                        issues=_row_issues(applicant),
                        duplicates=duplicates[applicant.pk],
                    )
                    for applicant in applicants
                ],
                batch_size=1000,
            )
            Applicant.objects.filter(pk__in=[a.pk for a in applicants]).update(
                kemnaker_status=KemnakerStatus.WAITING, kemnaker_note="", updated_at=timezone.now()
            )
            audit_log(
                actor=staff_user,
                action="registration.kemnaker_submission_sent",
                obj=submission,
                data={
                    "province": staff.province_id,
                    "people": len(applicants),
                    "with_issues": sum(1 for a in applicants if _row_issues(a)),
                    "with_duplicates": sum(1 for pk in duplicates if duplicates[pk]),
                },
            )
    except IntegrityError as exc:
        # Another send of the same province took these people a moment ago.
        raise SubmissionError(
            _("These registrations were just sent by someone else. Reload the page."), code="race"
        ) from exc
    return submission


# --- Kemnaker decides --------------------------------------------------------------------------------


def _refuse(*, officer, submission_id: int, code: str, message) -> SubmissionError:
    audit_log(
        actor=officer,
        action="registration.kemnaker_decision_refused",
        data={"submission": submission_id, "reason": code},
    )
    return SubmissionError(message, code=code)


def offline_submission_decide(
    *, submission_id: int, officer, returns: dict[int, tuple[str, str]], note: str = ""
) -> OfflineSubmission:
    """Approve a sent submission, returning the people in ``returns`` (item id -> (reason, note)).

    Two-person rule: the officer needs the Kemnaker permission and must not be the sender (both
    refusals are audited). A submission is decided once; a second call is refused. Approved people
    lose their hold; returned people keep it until Disnaker sends them again and Kemnaker approves.
    Each person gets an SMS in their language.
    """
    if not officer.has_perm(REVIEW_PERMISSION):
        raise _refuse(
            officer=officer,
            submission_id=submission_id,
            code="not_kemnaker",
            message=_("Only a Kemnaker officer decides on a submission."),
        )
    for reason, person_note in returns.values():
        if reason not in ReturnReason.values:
            raise SubmissionError(_("Choose a reason for each person you return."), code="reason")
        if reason == ReturnReason.OTHER and not person_note.strip():
            raise SubmissionError(_("Write a note for each person returned for another reason."), code="note")
    with transaction.atomic():
        submission = OfflineSubmission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None:
            raise SubmissionError(_("No such submission."), code="missing")
        if submission.sent_by_id == officer.pk:
            refusal = ("sender", _("You sent this submission: another officer must decide on it."))
        elif submission.status != SubmissionStatus.SENT:
            refusal = ("decided", _("This submission was already decided."))
        else:
            refusal = None
    if refusal:
        raise _refuse(officer=officer, submission_id=submission_id, code=refusal[0], message=refusal[1])
    now = timezone.now()
    required = offline_approval_required()
    with transaction.atomic():
        submission = OfflineSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.status != SubmissionStatus.SENT:
            raise SubmissionError(_("This submission was already decided."), code="decided")
        items = list(submission.items.select_related("applicant__user").order_by("pk"))
        unknown = set(returns) - {item.pk for item in items}
        if unknown:
            raise SubmissionError(_("A person returned is not in this submission."), code="unknown_item")
        returned_items, approved_items = [], []
        for item in items:
            if item.pk in returns:
                item.decision = ItemDecision.RETURNED
                item.return_reason, item.note = returns[item.pk][0], returns[item.pk][1].strip()[:200]
                returned_items.append(item)
            else:
                item.decision, item.return_reason, item.note = ItemDecision.APPROVED, "", ""
                approved_items.append(item)
        OfflineSubmissionItem.objects.bulk_update(
            items, ["decision", "return_reason", "note"], batch_size=1000
        )
        Applicant.objects.filter(pk__in=[item.applicant_id for item in approved_items]).update(
            kemnaker_status=KemnakerStatus.APPROVED, kemnaker_hold=False, kemnaker_note="", updated_at=now
        )
        for item in returned_items:
            Applicant.objects.filter(pk=item.applicant_id).update(
                kemnaker_status=KemnakerStatus.RETURNED,
                kemnaker_hold=required,
                kemnaker_note=item.note or item.get_return_reason_display(),
                updated_at=now,
            )
        if not returned_items:
            status = SubmissionStatus.APPROVED
        elif not approved_items:
            status = SubmissionStatus.RETURNED
        else:
            status = SubmissionStatus.PARTLY_APPROVED
        updated = OfflineSubmission.objects.filter(pk=submission.pk, status=SubmissionStatus.SENT).update(
            status=status,
            decided_by=officer,
            decided_at=now,
            approved_count=len(approved_items),
            returned_count=len(returned_items),
            note=note.strip(),
        )
        if not updated:  # pragma: no cover - the row is locked above
            raise SubmissionError(_("This submission was already decided."), code="decided")
        submission.refresh_from_db()
        audit_log(
            actor=officer,
            action="registration.kemnaker_submission_decided",
            obj=submission,
            data={
                "status": status,
                "approved": len(approved_items),
                "returned": [
                    {"nik": item.applicant.masked_nik, "reason": item.return_reason}
                    for item in returned_items
                ][:500],
            },
        )
        for item in items:
            _notify(item)
    return submission


def _notify(item: OfflineSubmissionItem) -> None:
    applicant = item.applicant
    if not applicant.phone:
        return
    returned = item.decision == ItemDecision.RETURNED
    notify_user(
        user=applicant.user,
        template="registration_kemnaker_returned" if returned else "registration_kemnaker_approved",
        # Lazy labels: rendered in the person's language by the outbox.
        context={
            "reason": ReturnReason(item.return_reason).label if returned else "",
            "note": item.note,
        },
        phone=applicant.phone,
        channels=("sms",),
        idempotency_key=f"kemnaker-decision:{item.pk}",
    )


def submissions_for_review():
    return OfflineSubmission.objects.select_related("province", "sent_by", "decided_by")


def submission_items(submission: OfflineSubmission) -> list[OfflineSubmissionItem]:
    return list(
        submission.items.select_related("applicant", "applicant__regency", "applicant__district").order_by(
            "pk"
        )
    )
