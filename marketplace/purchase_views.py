"""The participant's side of buying: "Beli" with the balance and an SMS code, "Pelatihan Saya", cancelling.

Every page is for the signed-in participant and shows only their own purchases
(someone else's purchase id answers 404). Rules live in ``services``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cohorts.enums import ParticipantStatus
from cohorts.selectors import participant_for_user
from marketplace import services
from marketplace.enums import CancelledBy, PurchaseChannel, PurchaseStatus, TrainingMode, VoucherStatus
from marketplace.exceptions import PurchaseRefused, VoucherRefused
from marketplace.forms import BuyForm, CancelVoucherForm
from marketplace.models import TrainingSession
from marketplace.selectors import (
    affiliated_expression,
    listings_visible,
    purchase_of_user,
    purchases_of_participant,
)
from marketplace.services.purchases import FAILURE_MESSAGES, OTP_PURPOSE
from prakerja.money import format_rupiah
from prakerja.otp import otp_active
from registration.forms import CodeForm
from registration.phones import phone_masked


def _blocked_reason(participant, price: int) -> str:
    """Why this person cannot buy now (shown instead of the button), or ""."""
    if participant is None:
        return _(
            "Only Prakerja participants can buy trainings with the training balance. "
            "Follow the steps on your dashboard to become one."
        )
    if participant.status == ParticipantStatus.REVOKED:
        return _("Your Prakerja card is no longer active: %(reason)s") % {"reason": participant.revoke_reason}
    if participant.status != ParticipantStatus.ACTIVE:
        return _("The programme has ended: the training balance can no longer be used.")
    if participant.first_purchase_at is None and participant.purchase_deadline <= timezone.now():
        return _("The time to buy your first training has run out.")
    if participant.balance_account.balance < price:
        return _("Your balance of %(balance)s is not enough for this training (%(price)s).") % {
            "balance": format_rupiah(participant.balance_account.balance),
            "price": format_rupiah(price),
        }
    return ""


@login_required
@never_cache
def buy(request: HttpRequest, listing_id: int) -> HttpResponse:
    """The "Beli" page: the offer, the price and the balance; submitting sends the SMS code."""
    listing = (
        listings_visible()
        .select_related("platform", "training__provider")
        .annotate(affiliated=affiliated_expression())
        .filter(pk=listing_id)
        .first()
    )
    if listing is None:
        raise Http404(_("This offer is not in the catalog."))
    participant = participant_for_user(request.user)
    sessions = []
    if listing.training.mode == TrainingMode.WEBINAR:
        sessions = list(
            TrainingSession.objects.filter(
                training_id=listing.training_id, starts_at__gt=timezone.now()
            ).order_by("starts_at")[:20]
        )
    form = BuyForm(request.POST if request.method == "POST" else None, sessions=sessions)
    blocked = _blocked_reason(participant, listing.price)
    if listing.training.mode == TrainingMode.WEBINAR and not sessions and not blocked:
        blocked = _("This webinar has no upcoming session at the moment.")
    if request.method == "POST" and not blocked and form.is_valid():
        session = form.cleaned_data.get("session")
        try:
            started = services.purchase_start(
                participant_id=participant.pk,
                listing_id=listing.pk,
                channel=PurchaseChannel.PORTAL,
                session_id=session.pk if session else None,
            )
        except PurchaseRefused as exc:
            form.add_error(None, str(exc.message))
        else:
            if not started.code_sent:
                messages.info(request, _("We already sent you a code for this purchase. It still works."))
            return redirect("marketplace:purchase_code", public_id=started.purchase.public_id)
    balance = participant.balance_account.balance if participant else None
    context = {
        "listing": listing,
        "training": listing.training,
        "participant": participant,
        "balance": balance,
        "balance_after": balance - listing.price
        if balance is not None and balance >= listing.price
        else None,
        "form": form,
        "blocked": blocked,
    }
    return render(request, "marketplace/buy.html", context)


def _own_purchase(request: HttpRequest, public_id):
    purchase = purchase_of_user(user=request.user, public_id=public_id)
    if purchase is None:
        raise Http404(_("There is no such purchase in your account."))
    return purchase


@login_required
@never_cache
def purchase_code(request: HttpRequest, public_id) -> HttpResponse:
    """Enter the SMS code; on success the balance is debited and the voucher shown."""
    purchase = _own_purchase(request, public_id)
    if purchase.status in (PurchaseStatus.PAID, PurchaseStatus.REFUNDED):
        return redirect("marketplace:voucher", public_id=purchase.public_id)
    if purchase.status == PurchaseStatus.FAILED:
        messages.error(request, FAILURE_MESSAGES.get(purchase.failure_code, FAILURE_MESSAGES["timed_out"]))
        return redirect("marketplace:buy", listing_id=purchase.listing_id)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.purchase_confirm(purchase_id=purchase.pk, code=form.cleaned_data["code"])
        except PurchaseRefused as exc:
            if exc.code.startswith("code_"):
                form.add_error("code", str(exc.message))
            else:
                messages.error(request, str(exc.message))
                return redirect("marketplace:buy", listing_id=purchase.listing_id)
        else:
            messages.success(request, _("Payment done. Here is your voucher."))
            return redirect("marketplace:voucher", public_id=purchase.public_id)
    active = otp_active(user=request.user, purpose=OTP_PURPOSE)
    if active is not None and active.pk != purchase.otp_code_id:
        active = None
    context = {
        "purchase": purchase,
        "training": purchase.listing.training,
        "form": form,
        "masked_phone": phone_masked(active.phone) if active else "",
        "expires_at": active.expires_at if active else None,
    }
    return render(request, "marketplace/purchase_code.html", context)


@login_required
@require_POST
def purchase_resend(request: HttpRequest, public_id) -> HttpResponse:
    purchase = _own_purchase(request, public_id)
    try:
        services.purchase_code_resend(purchase_id=purchase.pk)
    except PurchaseRefused as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("We sent a new code. Earlier codes no longer work."))
    return redirect("marketplace:purchase_code", public_id=purchase.public_id)


@login_required
@never_cache
def my_trainings(request: HttpRequest) -> HttpResponse:
    """ "Pelatihan Saya": every voucher of the participant, newest first."""
    participant = participant_for_user(request.user)
    purchases = []
    if participant is not None:
        purchases = [
            p
            for p in purchases_of_participant(participant)
            if p.status in (PurchaseStatus.PAID, PurchaseStatus.REFUNDED, PurchaseStatus.AWAITING_CODE)
        ]
    return render(
        request, "marketplace/my_trainings.html", {"participant": participant, "purchases": purchases}
    )


@login_required
@never_cache
def voucher(request: HttpRequest, public_id) -> HttpResponse:
    purchase = _own_purchase(request, public_id)
    if purchase.status == PurchaseStatus.AWAITING_CODE:
        return redirect("marketplace:purchase_code", public_id=purchase.public_id)
    if purchase.status == PurchaseStatus.FAILED:
        raise Http404(_("This purchase was not completed."))
    voucher = purchase.voucher
    window = services.redeem_window(voucher)
    completion = getattr(voucher, "completion", None)
    context = {
        "purchase": purchase,
        "voucher": voucher,
        "training": purchase.listing.training,
        "completion": completion,
        "assessment": getattr(completion, "assessment", None) if completion else None,
        "verify_url": (
            settings.SITE_URL.rstrip("/")
            + reverse("marketplace:certificate_verify", args=[completion.verification_code])
            if completion
            else ""
        ),
        "window": window,
        "may_cancel": voucher.status == VoucherStatus.ISSUED,
    }
    return render(request, "marketplace/voucher.html", context)


@login_required
@never_cache
def voucher_cancel(request: HttpRequest, public_id) -> HttpResponse:
    """Cancel an unredeemed voucher: ask to confirm, then refund the price to the balance."""
    purchase = _own_purchase(request, public_id)
    voucher = getattr(purchase, "voucher", None)
    if voucher is None:
        raise Http404(_("This purchase has no voucher."))
    if voucher.status != VoucherStatus.ISSUED:
        messages.error(request, _("Only a voucher that has not been redeemed can be cancelled."))
        return redirect("marketplace:voucher", public_id=purchase.public_id)
    form = CancelVoucherForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT, actor=request.user)
        except VoucherRefused as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("The voucher is cancelled. %(amount)s is back in your training balance.")
                % {"amount": format_rupiah(purchase.price)},
            )
        return redirect("marketplace:voucher", public_id=purchase.public_id)
    return render(
        request,
        "marketplace/voucher_cancel.html",
        {"purchase": purchase, "voucher": voucher, "training": purchase.listing.training, "form": form},
    )


@login_required
@never_cache
def certificate_download(request: HttpRequest, public_id) -> HttpResponse:
    """The participant's certificate of a completed training, as a PDF."""
    from marketplace.certificates import certificate_pdf

    purchase = _own_purchase(request, public_id)
    voucher = getattr(purchase, "voucher", None)
    completion = getattr(voucher, "completion", None) if voucher else None
    if completion is None:
        raise Http404(_("This training has no certificate yet."))
    response = HttpResponse(certificate_pdf(completion), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="sertifikat-prakerja-{completion.verification_code}.pdf"'
    )
    return response
