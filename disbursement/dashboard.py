"""Dashboard steps: the payout account (``payout_account``) and the incentive payments (``incentive``).

Both are returned on every view (LOCKED until reachable), with the same two queries wherever the person
stands.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from disbursement.enums import EntitlementStatus, PayoutAccountStatus
from disbursement.models import Entitlement, PayoutAccount
from prakerja.dashboard import Step, StepStatus
from prakerja.money import format_rupiah


def _date(value) -> str:
    return value.strftime("%d-%m-%Y")


def dashboard_steps(request) -> list[Step]:
    user = request.user
    entitlements = list(Entitlement.objects.filter(owner_id=user.pk).order_by("due_on", "number", "id"))
    account = (
        PayoutAccount.objects.filter(owner_id=user.pk, status__in=["active", "review"])
        .order_by("-id")
        .first()
    )
    return [_account_step(account, entitlements), _incentive_step(account, entitlements)]


def _account_step(account, entitlements) -> Step:
    title = _("Payout account")
    url = reverse("disbursement:payout_account")
    if account is not None and account.status == PayoutAccountStatus.ACTIVE:
        return Step(
            "payout_account",
            title,
            StepStatus.DONE,
            f"{account.get_channel_display()} {account.masked_number}",
            action_url=url,
            action_label=_("Change"),
        )
    if account is not None:
        return Step(
            "payout_account",
            title,
            StepStatus.WAITING,
            _("An officer is checking the name on %(account)s.")
            % {"account": f"{account.get_channel_display()} {account.masked_number}"},
        )
    if not entitlements:
        return Step(
            "payout_account", title, StepStatus.LOCKED, _("After you rate your first completed training.")
        )
    return Step(
        "payout_account",
        title,
        StepStatus.CURRENT,
        _(
            "Link a BNI account or an OVO, GoPay, LinkAja or DANA e-wallet in your own name to receive incentives."
        ),
        action_url=url,
        action_label=_("Link an account"),
    )


def _incentive_step(account, entitlements) -> Step:
    title = _("Incentives")
    if not entitlements:
        return Step("incentive", title, StepStatus.LOCKED, _("After you rate your first completed training."))
    url = reverse("disbursement:incentives")
    label = _("See my incentives")
    paid = [e for e in entitlements if e.status == EntitlementStatus.PAID]
    paid_text = _("%(paid)d of %(total)d paid (%(amount)s).") % {
        "paid": len(paid),
        "total": len(entitlements),
        "amount": format_rupiah(sum(e.amount for e in paid)),
    }
    failed = [e for e in entitlements if e.status in (EntitlementStatus.FAILED, EntitlementStatus.HELD)]
    if failed:
        return Step("incentive", title, StepStatus.FAILED, f"{paid_text} {failed[0].reason_text}", url, label)
    if len(paid) == len(entitlements):
        return Step("incentive", title, StepStatus.DONE, paid_text, url, label)
    upcoming = next(e for e in entitlements if e.status != EntitlementStatus.PAID)
    if upcoming.status == EntitlementStatus.IN_BATCH:
        next_text = _("%(amount)s is being transferred.") % {"amount": format_rupiah(upcoming.amount)}
    else:
        next_text = _("Next: %(amount)s on %(date)s.") % {
            "amount": format_rupiah(upcoming.amount),
            "date": _date(upcoming.due_on),
        }
    status = StepStatus.WAITING if account is not None else StepStatus.CURRENT
    return Step("incentive", title, status, f"{paid_text} {next_text}", url, label)
