"""Linking a payout account: inquiry at the partner, NIK and phone rules, SMS code, review, cooling-off."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from disbursement.enums import PayoutAccountStatus
from disbursement.gateway import InquiryResult, PartnerUnavailable
from disbursement.models import PayoutAccount
from disbursement.services.accounts import (
    PayoutAccountError,
    name_normalise,
    payout_account_confirm,
    payout_account_review,
    payout_account_start,
)
from prakerja.models import AuditEntry, Notification, OneTimeCode
from prakerja.otp import OtpError
from tests.disbursement.factories import PaymentPartnerFactory
from tests.disbursement.payout_helpers import finance_officer
from tests.factories import ApplicantFactory

pytestmark = pytest.mark.django_db

PHONE = "+6281234567890"


class FakeInquiry:
    def __init__(self, result=None, error=None):
        self.result = result
        self.error = error
        self.calls = []

    def account_inquiry(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return self.result


@pytest.fixture
def applicant():
    return ApplicantFactory(
        full_name="Budi Santoso", phone=PHONE, phone_verified_at=timezone.now(), user__language="id"
    )


@pytest.fixture
def partner():
    return PaymentPartnerFactory(channels=["ovo", "dana", "bni"])


def _inquiry(monkeypatch, **kwargs):
    fake = FakeInquiry(**kwargs)
    monkeypatch.setattr("disbursement.services.accounts.partner_client", lambda **kw: fake)
    return fake


def _code(user):
    body = Notification.objects.filter(user=user, channel="sms").order_by("-id").first().body
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_link_ewallet_with_sms_code(monkeypatch, applicant, partner):
    fake = _inquiry(
        monkeypatch, result=InquiryResult(exists=True, holder_name="BUDI SANTOSO", nik_match=True)
    )
    started = payout_account_start(user=applicant.user, channel="ovo", account_number="0812-3456-7890")
    assert fake.calls == [{"channel": "ovo", "account_number": "081234567890", "nik": applicant.nik}]
    assert started.account.status == PayoutAccountStatus.PENDING
    account = payout_account_confirm(user=applicant.user, code=_code(applicant.user))
    assert (account.status, account.payable_from, account.masked_number) == ("active", None, "••••••••7890")
    assert AuditEntry.objects.filter(action="disbursement.payout_account_link").count() == 1


def test_ewallet_must_be_the_verified_phone(monkeypatch, applicant, partner):
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="BUDI SANTOSO", nik_match=True))
    with pytest.raises(PayoutAccountError) as error:
        payout_account_start(user=applicant.user, channel="dana", account_number="081299998888")
    assert error.value.code == "ewallet_not_own_phone"
    assert PayoutAccount.objects.count() == 0


def test_other_nik_is_refused_and_audited(monkeypatch, applicant, partner):
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="SITI", nik_match=False))
    with pytest.raises(PayoutAccountError) as error:
        payout_account_start(user=applicant.user, channel="bni", account_number="1234567890")
    assert error.value.code == "other_nik"
    assert PayoutAccount.objects.count() == 0
    assert AuditEntry.objects.filter(action="disbursement.payout_account_refused").count() == 1


@pytest.mark.parametrize(
    ("result", "error", "code"),
    [
        (InquiryResult(exists=False, holder_name="", nik_match=False), None, "not_found"),
        (None, PartnerUnavailable("timeout"), "partner_unavailable"),
    ],
)
def test_unknown_account_or_partner_down(monkeypatch, applicant, partner, result, error, code):
    _inquiry(monkeypatch, result=result, error=error)
    with pytest.raises(PayoutAccountError) as raised:
        payout_account_start(user=applicant.user, channel="bni", account_number="1234567890")
    assert raised.value.code == code


def test_name_differing_goes_to_review_and_an_officer_decides(monkeypatch, applicant, partner):
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="BUDI HARTONO", nik_match=True))
    payout_account_start(user=applicant.user, channel="bni", account_number="1234567890")
    account = payout_account_confirm(user=applicant.user, code=_code(applicant.user))
    assert account.status == PayoutAccountStatus.REVIEW
    officer = finance_officer("f@x.test")
    account = payout_account_review(account_id=account.pk, officer=officer, approve=True, note="KTP checked")
    assert (account.status, account.reviewed_by) == ("active", officer)
    assert AuditEntry.objects.filter(action="disbursement.payout_account_review", actor=officer).count() == 1


def test_name_normalisation():
    assert name_normalise("Bpk. Budi  Santoso, S.") == name_normalise("SANTOSO BUDI S")
    assert name_normalise("Dr. Siti Nurhaliza") == "nurhaliza siti"


def test_change_tells_old_number_and_starts_cooling_off(monkeypatch, applicant, partner, settings):
    settings.PAYOUT_COOLING_OFF_DAYS = 3
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="BUDI SANTOSO", nik_match=True))
    payout_account_start(user=applicant.user, channel="ovo", account_number="081234567890")
    first = payout_account_confirm(user=applicant.user, code=_code(applicant.user))
    OneTimeCode.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    payout_account_start(user=applicant.user, channel="bni", account_number="1234567890")
    second = payout_account_confirm(user=applicant.user, code=_code(applicant.user))
    first.refresh_from_db()
    assert (first.status, second.status) == ("replaced", "active")
    assert second.payable_from - second.confirmed_at == datetime.timedelta(days=3)
    warning = Notification.objects.get(idempotency_key=f"disbursement.payoutaccount:{second.pk}:changed")
    assert warning.recipient == PHONE
    assert "BNI ****7890" in warning.body and warning.body.isascii()


def test_wrong_code_keeps_nothing_live(monkeypatch, applicant, partner):
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="BUDI SANTOSO", nik_match=True))
    payout_account_start(user=applicant.user, channel="ovo", account_number="081234567890")
    with pytest.raises(OtpError):
        payout_account_confirm(
            user=applicant.user, code="000000" if _code(applicant.user) != "000000" else "111111"
        )
    assert PayoutAccount.objects.get().status == "pending"


def test_pages_ask_for_the_password_first_then_link(client, monkeypatch, applicant, partner):
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="BUDI SANTOSO", nik_match=True))
    client.force_login(applicant.user)
    url = reverse("disbursement:payout_account")
    assert "reauthenticate" in client.get(url)["Location"]
    response = client.post(url, {"channel": "ovo", "account_number": "081234567890"})
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert PayoutAccount.objects.count() == 0
    response = client.post(reverse("account_reauthenticate"), {"password": "rahasia-panjang-2026"})
    assert response.status_code == 302
    response = client.post(url, {"channel": "ovo", "account_number": "081234567890"})
    assert response["Location"] == reverse("disbursement:payout_account_code")
    page = client.get(response["Location"])
    assert "0812" in page.content.decode()
    response = client.post(reverse("disbursement:payout_account_code"), {"code": _code(applicant.user)})
    assert response["Location"] == reverse("disbursement:incentives")
    page = client.get(reverse("disbursement:incentives")).content.decode()
    assert "••••••••7890" in page
    assert "081234567890" not in page


def test_refusal_is_shown_in_indonesian(client, monkeypatch, applicant, partner):
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="X", nik_match=False))
    client.force_login(applicant.user)
    client.post(reverse("account_reauthenticate"), {"password": "rahasia-panjang-2026"})
    response = client.post(
        reverse("disbursement:payout_account"),
        {"channel": "bni", "account_number": "1234567890"},
        HTTP_ACCEPT_LANGUAGE="id",
    )
    assert response.status_code == 200
    assert "NIK" in response.content.decode()


def test_linking_a_new_account_sends_failed_payments_to_it(
    monkeypatch, applicant, partner, django_capture_on_commit_callbacks
):
    from disbursement.enums import EntitlementKind
    from disbursement.models import Entitlement, Payout
    from disbursement.services import (
        batch_approve,
        batch_prepare,
        entitlements_accrue_due,
        entitlements_schedule,
    )
    from tests.disbursement.factories import PayoutAccountFactory
    from tests.disbursement.payout_helpers import FakePartner, use_fake_partner

    use_fake_partner(monkeypatch, FakePartner("failed"))
    PayoutAccountFactory(owner=applicant.user, partner=partner, channel="bni", account_number="5555555555")
    entitlements_schedule(
        owner=applicant.user,
        kind=EntitlementKind.SURVEY_INCENTIVE,
        amount=50_000,
        first_due_on=datetime.date(2026, 1, 1),
        reference="s",
        idempotency_key="s:1",
    )
    entitlements_accrue_due(today=datetime.date(2026, 1, 1))
    batch = batch_prepare(partner=partner, actor=finance_officer("a@x.test"))
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch_id=batch.pk, officer=finance_officer("b@x.test"))
    assert Entitlement.objects.get().status == "failed"
    _inquiry(monkeypatch, result=InquiryResult(exists=True, holder_name="BUDI SANTOSO", nik_match=True))
    payout_account_start(user=applicant.user, channel="ovo", account_number="081234567890")
    payout_account_confirm(user=applicant.user, code=_code(applicant.user))
    assert Payout.objects.get().status == "cancelled"
    assert Entitlement.objects.get().status == "due"
