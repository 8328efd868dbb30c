"""Demo data for the loopback partner: the simulator knows every demo applicant's e-wallets.

``load_demo`` writes them into the simulator's state file (PAYOUT_SIMULATOR_STATE), so that on
``make run`` an applicant with a verified mobile number can link OVO, GoPay, LinkAja or DANA on that
number (the account inquiry answers with their name and NIK), and the demo payout accounts exist too.
Idempotent; the simulator may be running meanwhile (SQLite, WAL).
"""

from __future__ import annotations

from django.conf import settings

from disbursement.gateway.simulator import SimulatorState

EWALLETS = ("ovo", "gopay", "linkaja", "dana")


def gateway_demo_load(*, stdout=None) -> int:
    """Register demo accounts in the simulator's state; returns how many."""
    from disbursement.models import PayoutAccount
    from registration.models import Applicant

    state = SimulatorState(settings.PAYOUT_SIMULATOR_STATE)
    state.credential_set(
        key_id=settings.PAYOUT_SIMULATOR_KEY_ID,
        secret=settings.PAYOUT_SIMULATOR_SECRET,
        callback_secret=settings.PAYOUT_SIMULATOR_CALLBACK_SECRET,
    )
    count = 0
    applicants = Applicant.objects.exclude(phone="").exclude(nik=None).exclude(phone_verified_at=None)
    for phone, nik, name in applicants.values_list("phone", "nik", "full_name").iterator():
        local = "0" + phone[3:] if phone.startswith("+62") else phone
        for channel in EWALLETS:
            state.account_set(
                channel=channel, account_number=local, holder_name=name.upper(), nik=nik, closed=False
            )
            count += 1
    accounts = PayoutAccount.objects.select_related("owner__applicant").filter(owner__applicant__isnull=False)
    for account in accounts.iterator():
        state.account_set(
            channel=account.channel,
            account_number=account.account_number,
            holder_name=account.holder_name or account.owner.applicant.full_name.upper(),
            nik=account.owner.applicant.nik or "",
            closed=account.account_number.endswith("0000"),
        )
        count += 1
    state.db.close()
    if stdout is not None:
        stdout.write(f"payout simulator: {count} demo accounts in {settings.PAYOUT_SIMULATOR_STATE}")
    return count
