"""The participant's pages: "Insentif" (the schedule and each payment) and "Rekening" (payout account)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from disbursement.enums import EntitlementReason, EntitlementStatus
from disbursement.selectors import entitlements_for_owner, payout_account_live, payouts_latest_by_entitlement
from prakerja.money import format_rupiah

BADGES = {
    EntitlementStatus.SCHEDULED: "badge-waiting",
    EntitlementStatus.DUE: "badge-current",
    EntitlementStatus.HELD: "badge-failed",
    EntitlementStatus.IN_BATCH: "badge-current",
    EntitlementStatus.PAID: "badge-done",
    EntitlementStatus.FAILED: "badge-failed",
    EntitlementStatus.CANCELLED: "badge-waiting",
}


@login_required
@never_cache
def incentives(request: HttpRequest) -> HttpResponse:
    """ "Insentif": every entitlement in due order, its status and reason, and the account it goes to."""
    account = payout_account_live(owner=request.user)
    rows = list(entitlements_for_owner(owner=request.user))
    latest = payouts_latest_by_entitlement(entitlement_ids=[e.pk for e in rows])
    items = []
    for entitlement in rows:
        reason = entitlement.reason_text
        if entitlement.status == EntitlementStatus.DUE and account is None:
            reason = EntitlementReason.NO_ACCOUNT.label
        items.append(
            {
                "entitlement": entitlement,
                "amount": format_rupiah(entitlement.amount),
                "badge": BADGES[entitlement.status],
                "reason": reason,
                "payout": latest.get(entitlement.pk),
            }
        )
    paid = sum(e.amount for e in rows if e.status == EntitlementStatus.PAID)
    return render(
        request,
        "disbursement/incentives.html",
        {"items": items, "account": account, "paid_total": format_rupiah(paid)},
    )
