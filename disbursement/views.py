"""The participant's pages: "Insentif" (the schedule and each payment) and "Rekening" (payout account)."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from disbursement.enums import EntitlementReason, EntitlementStatus, PayoutAccountStatus
from disbursement.forms import PayoutAccountForm
from disbursement.selectors import (
    entitlements_for_owner,
    payout_account_live,
    payout_account_refused,
    payouts_latest_by_entitlement,
)
from disbursement.services.accounts import (
    OTP_PURPOSE,
    PayoutAccountError,
    payout_account_confirm,
    payout_account_pending,
    payout_account_start,
)
from prakerja.money import format_rupiah
from prakerja.otp import OtpError, otp_active
from registration.forms import CodeForm

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
        if entitlement.status == EntitlementStatus.DUE:
            if account is None:
                reason = EntitlementReason.NO_ACCOUNT.label
            elif account.status == PayoutAccountStatus.REVIEW:
                reason = EntitlementReason.ACCOUNT_REVIEW.label
            elif account.payable_from and account.payable_from > timezone.now():
                reason = _(
                    "Your payout account was changed recently; for your safety, payments to it start on %(date)s."
                ) % {"date": date_format(timezone.localtime(account.payable_from), "j F Y H:i")}
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
        {
            "items": items,
            "account": account,
            "account_refused": payout_account_refused(account=account),
            "paid_total": format_rupiah(paid),
        },
    )


@login_required
@never_cache
@reauthentication_required
def payout_account(request: HttpRequest) -> HttpResponse:
    """ "Rekening": the linked account (masked) and the form to link one. The page asks for the password
    again first (allauth's reauthentication, a few minutes valid), then saving checks the account at the
    partner and sends an SMS code."""
    from registration.phones import phone_display

    account = payout_account_live(owner=request.user)
    applicant = getattr(request.user, "applicant", None)
    initial = {}
    if applicant is not None and applicant.phone_verified_at:
        initial["account_number"] = phone_display(applicant.phone).replace("-", "")
    form = PayoutAccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            payout_account_start(
                user=request.user,
                channel=form.cleaned_data["channel"],
                account_number=form.cleaned_data["account_number"],
            )
        except PayoutAccountError as exc:
            form.add_error("account_number", exc.message)
        except OtpError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("disbursement:payout_account_code")
    return render(
        request,
        "disbursement/payout_account.html",
        {
            "form": form,
            "account": account,
            "account_refused": payout_account_refused(account=account),
            "now": timezone.now(),
        },
    )


@login_required
@never_cache
@reauthentication_required(allow_get=True)
def payout_account_code(request: HttpRequest) -> HttpResponse:
    from registration.phones import phone_masked

    pending = payout_account_pending(user=request.user)
    if pending is None:
        return redirect("disbursement:payout_account")
    active = otp_active(user=request.user, purpose=OTP_PURPOSE)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = payout_account_confirm(user=request.user, code=form.cleaned_data["code"])
        except OtpError as exc:
            form.add_error("code", exc.message)
        except PayoutAccountError as exc:
            messages.error(request, exc.message)
            return redirect("disbursement:payout_account")
        else:
            if account.status == PayoutAccountStatus.REVIEW:
                messages.info(
                    request,
                    _(
                        "Your account is linked. The name at the bank or e-wallet differs from your name in "
                        "the civil registry, so an officer checks it first (usually within 2 working days)."
                    ),
                )
            else:
                messages.success(request, _("Your payout account is linked."))
            return redirect("disbursement:incentives")
    return render(
        request,
        "registration/code_form.html",
        {
            "form": form,
            "masked_phone": phone_masked(active.phone) if active else "",
            "expires_at": active.expires_at if active else None,
            "resend_url": "",
            "change_url": reverse("disbursement:payout_account"),
            "title": _("Confirm your payout account"),
        },
    )
