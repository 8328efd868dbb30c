"""Dashboard hooks: the training steps, "Pelatihan Saya" (vouchers, certificates) and the catalog panel."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorts.enums import ParticipantStatus
from cohorts.selectors import participant_for_user
from marketplace.enums import PurchaseStatus, VoucherStatus
from marketplace.selectors import purchases_of_participant
from prakerja.dashboard import Panel, Step, StepStatus

PANEL_ROWS = 5


def _state(request):
    """The participant and their purchases, read once per request (steps and panels share them)."""
    cached = getattr(request, "_marketplace_dashboard", None)
    if cached is None:
        participant = participant_for_user(request.user)
        purchases = []
        if participant is not None:
            purchases = [
                p for p in purchases_of_participant(participant)[:50] if p.status != PurchaseStatus.FAILED
            ]
        cached = (participant, purchases)
        request._marketplace_dashboard = cached
    return cached


def _with_vouchers(purchases) -> list:
    """Purchases that gave a voucher still in use (not cancelled), oldest first."""
    rows = []
    for purchase in reversed(purchases):
        voucher = getattr(purchase, "voucher", None) if purchase.status == PurchaseStatus.PAID else None
        if voucher is not None and voucher.status != VoucherStatus.CANCELLED:
            rows.append(purchase)
    return rows


def dashboard_steps(request) -> list[Step]:
    participant, purchases = _state(request)
    buy_title = _("Buy a training")
    finish_title = _("Finish the training")
    if participant is None:
        return [
            Step("training_buy", buy_title, StepStatus.LOCKED, _("After you receive your card.")),
            Step("training_finish", finish_title, StepStatus.LOCKED, _("After you buy a training.")),
        ]
    bought = _with_vouchers(purchases)
    if bought:
        buy = Step(
            "training_buy",
            buy_title,
            StepStatus.DONE,
            _("Bought: %(title)s") % {"title": bought[0].listing.training.title},
        )
    elif participant.status != ParticipantStatus.ACTIVE:
        buy = Step("training_buy", buy_title, StepStatus.LOCKED, _("Your card is no longer active."))
    else:
        detail = _("Choose a training in the catalog and pay with your training balance.")
        if participant.first_purchase_at is None:
            detail += " " + _("Buy before %(date)s.") % {
                "date": timezone.localtime(participant.purchase_deadline).strftime("%d-%m-%Y")
            }
        buy = Step(
            "training_buy",
            buy_title,
            StepStatus.CURRENT,
            detail,
            action_url=reverse("marketplace:catalog"),
            action_label=_("Open the catalog"),
        )
    by_status: dict[str, list] = {}
    for purchase in bought:
        by_status.setdefault(purchase.voucher.status, []).append(purchase)
    if by_status.get(VoucherStatus.COMPLETED):
        completed = by_status[VoucherStatus.COMPLETED]
        counted = next((p for p in completed if p.voucher.completion.counts_for_incentive), completed[0])
        finish = Step(
            "training_finish",
            finish_title,
            StepStatus.DONE,
            _("Certificate %(number)s") % {"number": counted.voucher.completion.certificate_number},
            action_url=reverse("marketplace:voucher", kwargs={"public_id": counted.public_id}),
            action_label=_("See and download my certificate"),
        )
    elif by_status.get(VoucherStatus.REDEEMED):
        finish = Step(
            "training_finish",
            finish_title,
            StepStatus.WAITING,
            _("Follow the training on %(platform)s; the platform reports when you complete it.")
            % {"platform": by_status[VoucherStatus.REDEEMED][0].platform.name},
        )
    elif by_status.get(VoucherStatus.ISSUED):
        purchase = by_status[VoucherStatus.ISSUED][0]
        finish = Step(
            "training_finish",
            finish_title,
            StepStatus.CURRENT,
            _("Use your voucher on %(platform)s to start the training.")
            % {"platform": purchase.platform.name},
            action_url=reverse("marketplace:voucher", kwargs={"public_id": purchase.public_id}),
            action_label=_("Show my voucher"),
        )
    else:
        finish = Step("training_finish", finish_title, StepStatus.LOCKED, _("After you buy a training."))
    return [buy, finish]


def dashboard_panels(request) -> list[Panel]:
    participant, purchases = _state(request)
    panels = []
    if participant is not None:
        panels.append(
            Panel(
                template="marketplace/_dashboard_my_trainings.html",
                context={"purchases": purchases[:PANEL_ROWS]},
                order=20,
            )
        )
    else:
        # Participants reach the catalog from their training step and "My trainings": one way, not three.
        panels.append(Panel(template="marketplace/_dashboard_catalog.html", order=60))
    return panels
