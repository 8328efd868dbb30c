"""The officers' console for purchases, vouchers and completions: read-only, masked, one audited action."""

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.urls import reverse

from disbursement.models import LedgerAccount
from marketplace import services
from marketplace.enums import PurchaseChannel, VoucherStatus
from marketplace.models import Voucher
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.factories import UserFactory
from tests.marketplace.factories import ListingFactory, participant_with_balance, sms_code

pytestmark = pytest.mark.django_db

PAGES = ["marketplace_purchase", "marketplace_voucher", "marketplace_completion"]


def officer(role=Role.PROGRAMME_OFFICER):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def bought(*, complete=False) -> Voucher:
    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=300_000)
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API
    )
    voucher = services.purchase_confirm(
        purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )
    if complete:
        services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
        services.completion_record(
            code=voucher.code,
            platform_id=voucher.platform_id,
            certificate_number=f"ADM-{voucher.pk}",
            score=75,
        )
    return voucher


@pytest.mark.parametrize("page", PAGES)
def test_lists_mask_the_card_number(client, page):
    voucher = bought(complete=True)
    client.force_login(officer())
    html = client.get(reverse(f"admin:{page}_changelist")).content.decode()
    card = voucher.participant.card_number
    assert card not in html
    assert voucher.participant.masked_card_number in html


@pytest.mark.parametrize("page", PAGES)
def test_list_query_count_is_constant(client, page, django_assert_num_queries, django_assert_max_num_queries):
    bought(complete=True)
    client.force_login(officer())
    url = reverse(f"admin:{page}_changelist")
    client.get(url)
    with django_assert_max_num_queries(40) as one:
        assert client.get(url).status_code == 200
    bought(complete=True)
    bought(complete=True)
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


def test_search_is_exact_on_the_voucher_code_and_the_card_number(client):
    voucher = bought()
    other = bought()
    client.force_login(officer())
    url = reverse("admin:marketplace_voucher_changelist")
    html = client.get(url, {"q": voucher.display_code.lower()}).content.decode()
    assert voucher.display_code in html and other.display_code not in html
    html = client.get(url, {"q": other.participant.card_number}).content.decode()
    assert other.display_code in html and voucher.display_code not in html
    html = client.get(url, {"q": voucher.code[:6]}).content.decode()
    assert voucher.display_code not in html


def test_an_officer_cancels_with_a_reason_and_the_refund_is_audited(client):
    voucher = bought()
    user = officer()
    client.force_login(user)
    url = reverse("admin:marketplace_voucher_changelist")
    data = {"action": "cancel_and_refund", helpers.ACTION_CHECKBOX_NAME: [voucher.pk]}
    page = client.post(url, data)
    assert "Batalkan voucher dan kembalikan saldo" in page.content.decode()
    client.post(url, {**data, "apply": "1", "reason": "Lembaga pelatihan menutup kelas"})
    voucher.refresh_from_db()
    assert (voucher.status, voucher.cancelled_by, voucher.cancel_reason) == (
        VoucherStatus.CANCELLED,
        "officer",
        "Lembaga pelatihan menutup kelas",
    )
    assert LedgerAccount.objects.get(participant__pk=voucher.participant_id).balance == 1_000_000
    entry = AuditEntry.objects.get(action="marketplace.voucher.cancelled")
    assert entry.actor == user
    assert entry.data["reason"] == "Lembaga pelatihan menutup kelas"


def test_a_finance_officer_sees_but_cannot_cancel(client):
    voucher = bought()
    client.force_login(officer(Role.FINANCE_OFFICER))
    url = reverse("admin:marketplace_voucher_changelist")
    html = client.get(url).content.decode()
    assert voucher.display_code in html
    assert "cancel_and_refund" not in html
    client.post(
        url,
        {
            "action": "cancel_and_refund",
            helpers.ACTION_CHECKBOX_NAME: [voucher.pk],
            "apply": "1",
            "reason": "coba",
        },
    )
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.ISSUED


@pytest.mark.parametrize("role", [Role.KYC_REVIEWER, Role.DISNAKER_STAFF])
@pytest.mark.parametrize("page", PAGES)
def test_other_roles_cannot_open_the_buying_console(client, role, page):
    voucher = bought(complete=True)
    client.force_login(officer(role))
    response = client.get(reverse(f"admin:{page}_changelist"))
    assert response.status_code == 403
    assert voucher.code not in response.content.decode()


def test_records_cannot_be_edited_or_deleted(client):
    voucher = bought()
    client.force_login(officer())
    html = client.get(reverse("admin:marketplace_voucher_change", args=[voucher.pk])).content.decode()
    assert voucher.display_code in html
    assert 'name="_save"' not in html
    assert client.get(reverse("admin:marketplace_voucher_delete", args=[voucher.pk])).status_code == 403
    assert client.get(reverse("admin:marketplace_purchase_add")).status_code == 403
