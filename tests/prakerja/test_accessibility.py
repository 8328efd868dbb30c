"""axe-core (4.x, from the axe-playwright-python package) on every applicant page and the main staff pages.

A serious or critical violation fails the test. axe is injected into the page by the test only; the
portal never serves it. Pages are checked at phone size, in Indonesian, anonymous and signed in at
several points of the lifecycle.
"""

from __future__ import annotations

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from prakerja.roles import Role
from tests.cohorts.factories import WaveFactory, programme, verified_applicant
from tests.factories import ApplicantFactory, UserFactory
from tests.kyc.factories import KycCaseFactory, KycSubmissionFactory
from tests.marketplace.factories import ListingFactory, participant_with_balance, sms_code
from tests.registration.factories import disnaker_user

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
# Moderate in axe, but named in the issue: all content inside landmarks (the top strip was outside).
ALSO_FAILING_RULES = {"region"}
_axe = Axe()
_BASE: list[str] = [""]


@pytest.fixture(autouse=True)
def _base_url(live_server):
    _BASE[0] = live_server.url


def _sign_in(page, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": _BASE[0],
            }
        ]
    )


def _violations(page, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
    results = _axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING or violation["id"] in ALSO_FAILING_RULES:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(
                f"{path}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}"
            )
    return found


def _check(page, paths: list[str]) -> None:
    found = []
    for path in paths:
        found.extend(_violations(page, path))
    assert not found, "\n".join(found)


def _participant_with_certificate():
    from marketplace import services
    from marketplace.enums import PurchaseChannel

    participant = participant_with_balance(balance=1_000_000)
    listing = ListingFactory(price=400_000)
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API
    )
    voucher = services.purchase_confirm(
        purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )
    services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
    completion = services.completion_record(
        code=voucher.code, platform_id=voucher.platform_id, certificate_number="CERT-A11Y", score=90
    )
    return participant, started.purchase, completion, listing


def test_public_pages_have_no_serious_violations(page, live_server):
    listing = ListingFactory()
    _check(
        page,
        [
            "/",
            reverse("marketplace:catalog"),
            reverse("marketplace:training_detail", args=[listing.training_id]),
            reverse("help"),
            reverse("privacy"),
            reverse("account_login"),
            reverse("account_signup"),
            reverse("marketplace:provider_apply"),
            reverse("marketplace:certificate_lookup"),
        ],
    )


def test_applicant_pages_before_and_after_the_profile(page, live_server):
    _sign_in(page, UserFactory())
    _check(page, [reverse("dashboard"), reverse("registration:profile"), reverse("registration:claim")])
    applicant = ApplicantFactory(phone="", phone_verified_at=None)
    _sign_in(page, applicant.user)
    _check(
        page,
        [
            reverse("dashboard"),
            reverse("registration:profile_detail"),
            reverse("registration:phone"),
            reverse("kyc:upload"),
        ],
    )


def test_applicant_pages_in_a_wave_and_as_a_participant(page, live_server):
    programme()
    WaveFactory()
    _sign_in(page, verified_applicant().user)
    _check(page, [reverse("dashboard"), reverse("cohorts:join")])
    participant, purchase, completion, listing = _participant_with_certificate()
    other = ListingFactory(price=100_000)
    _sign_in(page, participant.applicant.user)
    _check(
        page,
        [
            reverse("dashboard"),
            reverse("marketplace:my_trainings"),
            reverse("marketplace:voucher", args=[purchase.public_id]),
            reverse("marketplace:buy", args=[other.pk]),
            reverse("marketplace:certificate_verify", args=[completion.verification_code]),
        ],
    )


def test_staff_pages_have_no_serious_violations(page, live_server):
    staff = disnaker_user("32")
    ApplicantFactory(channel="offline", registered_by=staff)  # a row in the staff list (Kota Bekasi)
    _sign_in(page, staff)
    page.goto(reverse("registration:staff_home"))
    # The staff list fits a phone without sideways scrolling (rows stack into label: value lines).
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("box => box.scrollWidth <= box.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    _check(
        page,
        [
            reverse("registration:staff_home"),
            reverse("registration:staff_register"),
            reverse("registration:staff_import"),
        ],
    )
    case = KycCaseFactory(
        status="review", attempts_used=3, decided_at=timezone.now() - datetime.timedelta(hours=1)
    )
    KycSubmissionFactory(case=case, verdict="review", system_verdict="review", distance=0.5)
    reviewer = UserFactory(email="reviewer@prakerja.test", is_staff=True)
    reviewer.groups.add(Group.objects.get(name=Role.KYC_REVIEWER))
    _sign_in(page, reviewer)
    _check(
        page,
        [
            reverse("admin:kyc_reviewqueuecase_changelist"),
            reverse("admin:kyc_kyccase_change", args=[case.pk]),
        ],
    )


def test_keyboard_reaches_the_content_and_the_phone_menu(page, live_server):
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Langsung ke konten utama"
    assert page.locator(".skip-link").evaluate("link => link.getBoundingClientRect().left >= 0")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto("/")
    toggle = page.locator(".nav-toggle")
    for _step in range(5):
        page.keyboard.press("Tab")
        if toggle.evaluate("button => button === document.activeElement"):
            break
    assert toggle.evaluate("button => button === document.activeElement")
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("#site-nav").is_visible()
