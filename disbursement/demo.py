"""Demo data: programme accounts, two payment partners on the loopback simulator, a second Finance officer,
and three participants whose incentives show each state of a payout.

- insentif@demo.prakerja.test: OVO linked, training incentive 1 paid, 2-4 scheduled;
- gagal@demo.prakerja.test: BNI account, a survey incentive whose transfer failed (account closed);
- menunggu@demo.prakerja.test: DANA linked, incentive 1 in a batch waiting for the second officer.

Idempotent: the people's payouts are created once (the partner's answers are applied through the same
transition functions the callbacks use, so the demo needs no running simulator).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from disbursement.enums import EntitlementKind, PartnerKind, PayoutAccountStatus, ProgrammeAccount
from disbursement.gateway.demo import gateway_demo_load
from disbursement.models import Entitlement, PaymentPartner, Payout, PayoutAccount
from disbursement.services import (
    batch_approve,
    batch_prepare,
    entitlements_accrue_due,
    entitlements_schedule,
    ledger_programme_account_open,
    partner_save,
    payout_apply_result,
    payout_mark_sending,
)
from disbursement.services.batches import batch_finish_if_done
from prakerja.demo import DemoLogin, demo_user
from prakerja.roles import Role

# email, name, gender, birth date, serial, KK, phone, channel, account number
PEOPLE = {
    "paid": ("insentif@demo.prakerja.test", "Andi Pratama", "M", (1993, 4, 12), 21, "3275010101150021",
             "+6281100000021", "ovo", "081100000021"),
    "failed": ("gagal@demo.prakerja.test", "Sinta Maharani", "F", (1996, 2, 8), 22, "3275010101150022",
               "+6281100000022", "bni", "0123456789"),
    "waiting": ("menunggu@demo.prakerja.test", "Rudi Hartono", "M", (1990, 11, 30), 23, "3275010101150023",
                "+6281100000023", "dana", "081100000023"),
}  # fmt: skip
PARTNERS = [
    (
        "Simulator e-wallet (OVO, GoPay, LinkAja, DANA)",
        PartnerKind.EWALLET,
        ["ovo", "gopay", "linkaja", "dana"],
    ),
    ("Simulator BNI", PartnerKind.BANK, ["bni", "bni_va"]),
]


def _partners() -> dict[str, PaymentPartner]:
    by_channel = {}
    for name, kind, channels in PARTNERS:
        partner = PaymentPartner.objects.filter(name=name).first()
        if partner is None:
            partner = partner_save(
                partner=PaymentPartner(
                    name=name,
                    kind=kind,
                    channels=channels,
                    base_url=settings.PAYOUT_SIMULATOR_URL,
                    key_id=settings.PAYOUT_SIMULATOR_KEY_ID,
                    batch_limit=5000,
                ),
                actor=None,
                secret=settings.PAYOUT_SIMULATOR_SECRET,
                callback_secret=settings.PAYOUT_SIMULATOR_CALLBACK_SECRET,
            )
        for channel in channels:
            by_channel[channel] = partner
    return by_channel


def _person(key: str, partners: dict[str, PaymentPartner]):
    from registration.demo import _civil_record, _profile
    from registration.models import Applicant
    from registration.services import applicant_civil_check, applicant_profile_save

    email, name, gender, birth, serial, kk, phone, channel, number = PEOPLE[key]
    first, _space, last = name.partition(" ")
    user = demo_user(email, first_name=first, last_name=last)
    if not Applicant.objects.filter(user=user).exists():
        data = _profile(name, gender, birth, "32.75.01", serial, kk)
        _civil_record(data)
        with transaction.atomic():
            applicant = applicant_profile_save(user=user, data=data)
            Applicant.objects.filter(pk=applicant.pk).update(phone=phone, phone_verified_at=timezone.now())
        applicant_civil_check(applicant_id=applicant.pk)
    if not PayoutAccount.objects.filter(owner=user).exists():
        PayoutAccount.objects.create(
            owner=user,
            partner=partners[channel],
            channel=channel,
            account_number=number,
            holder_name=name.upper(),
            status=PayoutAccountStatus.ACTIVE,
            confirmed_at=timezone.now(),
        )
    return user


def _answer(batch, status: str, failure_code: str = "") -> None:
    """Apply the partner's answer to every payout of ``batch``, as the sender would."""
    for payout_id in Payout.objects.filter(batch=batch).values_list("id", flat=True):
        payout_mark_sending(payout_id=payout_id)
        payout_apply_result(
            payout_id=payout_id, status=status, partner_id=f"SIM-DEMO-{payout_id}", failure_code=failure_code
        )
    batch_finish_if_done(batch_id=batch.pk)


def demo_load(*, stdout) -> list[DemoLogin]:
    for code in ProgrammeAccount:
        ledger_programme_account_open(code=code)
    preparer = demo_user("keuangan@prakerja.test", first_name="Sari", last_name="Lestari", staff=True,
                         roles=[Role.FINANCE_OFFICER])  # fmt: skip
    approver = demo_user("keuangan2@prakerja.test", first_name="Hendra", last_name="Gunawan", staff=True,
                         roles=[Role.FINANCE_OFFICER])  # fmt: skip
    partners = _partners()
    people = {key: _person(key, partners) for key in PEOPLE}
    gateway_demo_load(stdout=stdout)  # the simulator answers account inquiries for the demo people
    if Entitlement.objects.filter(owner=people["paid"]).exists():
        return _logins()
    today = timezone.localdate()
    entitlements_schedule(
        owner=people["paid"],
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=600_000,
        count=4,
        interval_days=30,
        first_due_on=today - datetime.timedelta(days=20),
        reference="demo",
        idempotency_key=f"training-incentive:{people['paid'].pk}",
    )
    entitlements_schedule(
        owner=people["failed"],
        kind=EntitlementKind.SURVEY_INCENTIVE,
        amount=50_000,
        first_due_on=today - datetime.timedelta(days=3),
        reference="demo",
        idempotency_key=f"survey-incentive:{people['failed'].pk}:demo",
    )
    entitlements_accrue_due(today=today)
    for channel, status, code in (("ovo", "paid", ""), ("bni", "failed", "account_closed")):
        batch = batch_prepare(partner=partners[channel], actor=preparer)
        batch_approve(batch_id=batch.pk, officer=approver, send=False)
        _answer(batch, status, code)
    entitlements_schedule(
        owner=people["waiting"],
        kind=EntitlementKind.TRAINING_INCENTIVE,
        amount=600_000,
        count=4,
        interval_days=30,
        first_due_on=today - datetime.timedelta(days=1),
        reference="demo",
        idempotency_key=f"training-incentive:{people['waiting'].pk}",
    )
    entitlements_accrue_due(today=today)
    batch_prepare(partner=partners["dana"], actor=preparer)
    return _logins()


def _logins() -> list[DemoLogin]:
    return [
        DemoLogin(
            "keuangan2@prakerja.test", f"{Role.FINANCE_OFFICER.value}: approves the waiting payout batch"
        ),
        DemoLogin("insentif@demo.prakerja.test", "participant: OVO linked, incentive 1 paid, 2-4 scheduled"),
        DemoLogin("gagal@demo.prakerja.test", "participant: BNI transfer failed (account closed)"),
        DemoLogin("menunggu@demo.prakerja.test", "participant: incentive 1 in a batch waiting for approval"),
    ]
