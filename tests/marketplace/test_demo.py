import io

import pytest
from django.db.models import F

from marketplace.demo import PLATFORMS, demo_load
from marketplace.enums import ProviderStatus, TrainingMode, TrainingStatus
from marketplace.models import Listing, Platform, PlatformCredential, Provider, ProviderAffiliation, Training
from marketplace.selectors import listings_visible

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Platform.objects.count(),
        Provider.objects.count(),
        ProviderAffiliation.objects.count(),
        Training.objects.count(),
        Listing.objects.count(),
        PlatformCredential.objects.count(),
    )


def test_demo_catalog_is_realistic_and_idempotent():
    out = io.StringIO()
    demo_load(stdout=out)
    first = _counts()
    assert first[0] == len(PLATFORMS) == 8
    assert Provider.objects.filter(status=ProviderStatus.VERIFIED).count() == 36
    assert Provider.objects.filter(status=ProviderStatus.APPLIED).count() == 3
    assert Training.objects.filter(status=TrainingStatus.APPROVED).count() == 300
    assert set(Training.objects.values_list("mode", flat=True)) == set(TrainingMode.values)
    assert listings_visible().count() == first[4]
    assert ProviderAffiliation.objects.filter(provider__status=ProviderStatus.VERIFIED).count() == 6
    assert not Listing.objects.filter(price__gt=F("training__price")).exists()
    assert "secret sk_" in out.getvalue()  # each platform's first secret is shown once

    again = io.StringIO()
    demo_load(stdout=again)
    assert _counts() == first
    assert "secret" not in again.getvalue()


def test_full_demo_has_a_buyer_ready_and_a_participant_with_a_certificate(client):
    from django.core.management import call_command

    from cohorts.demo import PARTICIPANT_EMAIL
    from cohorts.models import Participant
    from marketplace.enums import VoucherStatus
    from marketplace.models import Completion, Purchase, Voucher
    from marketplace.selectors import incentive_qualifying_completion
    from prakerja.demo import DEMO_PASSWORD

    out = io.StringIO()
    call_command("load_demo", stdout=out)
    # The surveys demo adds one more participant who completed (and rated) a training.
    from surveys.demo import SURVEY_PARTICIPANT_EMAIL

    counts = (Purchase.objects.count(), Voucher.objects.count(), Completion.objects.count())
    assert counts == (3, 3, 2)
    completion = (
        Completion.objects.select_related("participant__applicant__user")
        .exclude(participant__applicant__user__email=SURVEY_PARTICIPANT_EMAIL)
        .get()
    )
    holder = completion.participant
    assert incentive_qualifying_completion(holder) == completion
    assert sorted(Voucher.objects.filter(participant=holder).values_list("status", flat=True)) == [
        VoucherStatus.COMPLETED,
        VoucherStatus.ISSUED,
    ]
    assert f"{holder.applicant.user.email}" in out.getvalue()
    assert f"--card-of {PARTICIPANT_EMAIL}" in out.getvalue()

    buyer = Participant.objects.get(applicant__user__email=PARTICIPANT_EMAIL)
    assert buyer.balance_account.balance == 1_000_000
    assert not Purchase.objects.filter(participant=buyer).exists()

    assert client.login(email=holder.applicant.user.email, password=DEMO_PASSWORD)
    html = client.get("/dasbor/").content.decode()
    assert f"Sertifikat {completion.certificate_number} · nilai 88" in html

    call_command("load_demo", stdout=io.StringIO())
    assert (Purchase.objects.count(), Voucher.objects.count(), Completion.objects.count()) == counts

    # Settlement: every redeemed voucher recorded for its platform, one settlement paid (once).
    from disbursement.models import PayoutBatch, SettlementAccount, SettlementItem
    from disbursement.selectors import ledger_check

    assert SettlementAccount.objects.count() == 8
    assert not SettlementAccount.objects.filter(account_number_encrypted="").exists()
    assert SettlementItem.objects.count() == Voucher.objects.exclude(redeemed_at=None).count() == 2
    settled = PayoutBatch.objects.get(settlement_account__isnull=False)
    assert (settled.status, settled.prepared_by.email) == ("done", "keuangan@prakerja.test")
    assert settled.payouts.get().status == "paid"
    assert ledger_check().ok
