"""Content-Security-Policy: the header, and Chromium reports no violation on the portal's and the
console's pages (no inline script, no on* handler, no style attribute, nothing from elsewhere)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.disbursement.payout_helpers import person_with_due
from tests.factories import ApplicantFactory

pytestmark = pytest.mark.django_db

PHOTO = Path(__file__).resolve().parents[1] / "kyc" / "data" / "people" / "obama" / "1.jpg"

EXPECTED_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def test_every_page_sends_the_policy_and_the_other_headers(client):
    response = client.get("/")
    directives = {part.strip() for part in response["Content-Security-Policy"].split(";")}
    assert directives == {part.strip() for part in EXPECTED_POLICY.split(";")}
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_template_of_ours_has_inline_script_or_style():
    """Inline code would be refused by the browser: it belongs in static files."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    bad = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\son[a-z]+=\"|\sstyle=\"", re.IGNORECASE)
    offenders = []
    for path in root.glob("**/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if bad.search(line) and 'type="application/json"' not in line:
                offenders.append(f"{path.relative_to(root)}:{number}")
    assert offenders == []


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


PUBLIC = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/bantuan/",
    "/pelatihan/",
]
APPLICANT = ["/dasbor/", "/profil/", "/kyc/", "/accounts/password/change/"]
CONSOLE = [
    "/admin/",
    "/admin/prakerja/user/",
    "/admin/prakerja/user/add/",
    "/admin/marketplace/training/",
    "/admin/marketplace/training/import/",
    "/admin/marketplace/training/export/",
    "/admin/cohorts/wave/add/",
    "/admin/cohorts/wave/",
    "/admin/kyc/kyccase/",
    "/admin/marketplace/platform/",
    "/admin/disbursement/entitlement/",
    "/admin/disbursement/ledgeraccount/",
    "/admin/disbursement/ledgermovement/",
    "/admin/disbursement/payoutaccount/",
    "/admin/disbursement/payoutbatch/",
    "/accounts/2fa/",
]
DISNAKER = ["/staf/", "/staf/daftar/", "/staf/impor/"]


@pytest.mark.browser
def test_chromium_reports_no_csp_violation(page, live_server):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )

    def visit(paths):
        for path in paths:
            response = page.goto(path)
            assert response.status in (200, 302), (path, response.status)
            page.wait_for_load_state("load")

    visit(PUBLIC)
    applicant = ApplicantFactory()
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_cookie(applicant.user), "url": live_server.url}]
    )
    visit(APPLICANT)
    # The KYC page previews a chosen photo from a blob: URL (the photo stays on the device).
    page.goto("/kyc/")
    page.set_input_files('input[name="ktp"]', str(PHOTO))
    preview = page.locator('img[data-preview-for="ktp"]')
    preview.wait_for(state="visible")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    admin = get_user_model().objects.create_superuser(
        email="root@example.id", password="rahasia-panjang-2026"
    )
    page.context.add_cookies([{"name": "sessionid", "value": _session_cookie(admin), "url": live_server.url}])
    # The finance lists show rupiah amounts (a due incentive, its ledger accounts).
    person_with_due()
    visit(CONSOLE)
    page.goto("/admin/disbursement/entitlement/")
    assert page.locator("#result_list .rupiah").count() > 0
    from tests.registration.factories import disnaker_user

    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_cookie(disnaker_user()), "url": live_server.url}]
    )
    visit(DISNAKER)
    # The export page's "select all" box works without its inline handler (as the superuser again:
    # Disnaker staff may not export trainings).
    page.context.add_cookies([{"name": "sessionid", "value": _session_cookie(admin), "url": live_server.url}])
    page.goto("/admin/marketplace/training/export/")
    fields = page.locator('.selectable-field-export-row input[type="checkbox"]:not(.select-toggle)')
    assert fields.count() > 2
    page.locator("#select-all-toggle").uncheck()
    assert fields.evaluate_all("boxes => boxes.filter(b => b.checked).length") == 0
    page.locator("#select-all-toggle").check()
    assert fields.evaluate_all("boxes => boxes.filter(b => !b.checked).length") == 0
    assert violations == [], "\n".join(violations)
