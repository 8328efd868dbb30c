"""The whole lifecycle in Chromium at phone size.

A new applicant signs up, confirms the email, fills in the profile, verifies the phone by SMS code, is
checked against the civil registry, passes the selfie/KTP face check, joins a wave; the officer closes the
wave, runs the selection and the announcement (services, as the console does); the participant buys a
training with the SMS code, the platform simulator redeems and completes it over HTTP, the participant
rates it (the training incentive is scheduled: Rp600.000 x 4), answers evaluation survey 1 (Rp50.000
scheduled), links OVO (checked at the payout simulator, a real HTTP process), two finance officers prepare
and approve the batch, the simulator pays incentive 1 and the survey incentive, and the ledger check passes.
"""

import io
import json
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from cohorts import services as cohorts
from cohorts.enums import RunKind
from cohorts.models import Participant, Wave
from disbursement.enums import PayoutStatus
from disbursement.gateway.services import payout_status_check
from disbursement.models import Entitlement, Payout
from disbursement.selectors import ledger_check
from disbursement.services import batch_approve, batch_prepare, entitlements_accrue_due
from kyc.demo import ktp_card, portrait_crop
from marketplace.models import Voucher
from prakerja import sms
from registration.models import CivilRecord
from surveys.defaults import default_surveys_ensure
from surveys.models import SurveyAssignment
from tests.cohorts.factories import WaveFactory, programme
from tests.conftest import wait_until
from tests.disbursement.gateway_helpers import partner_at
from tests.disbursement.payout_helpers import finance_officer
from tests.disbursement.simulator_process import SimulatorProcess
from tests.marketplace.factories import ListingFactory, PlatformFactory, credential_for, sms_code

PHOTOS = "tests/kyc/data/people/obama"


@pytest.fixture
def simulator(tmp_path):
    process = SimulatorProcess(tmp_path / "sim.sqlite3", "--settle-seconds", "0.2").start()
    yield process
    process.stop()


def _jpeg(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _phone_width_ok(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_whole_lifecycle_from_sign_up_to_the_paid_incentives(
    page, live_server, tmp_path, settings, simulator
):
    from PIL import Image

    settings.PAYOUT_CALLBACK_BASE_URL = "http://127.0.0.1:9"  # callbacks go nowhere: the status check decides
    partner = partner_at(simulator)

    CivilRecord.objects.create(
        nik="3275015403950002",
        kk_number="3275010101100001",
        full_name="SITI NURHALIZA",
        birth_place="Bekasi",
        birth_date="1995-03-14",
        gender="F",
    )
    programme()
    wave = WaveFactory(total_quota=10)
    platform = PlatformFactory(slug="pintaria", name="Pintaria")
    key_id, secret = credential_for(platform)
    ListingFactory(
        training__title="Desain Grafis dengan Canva",
        training__price=300_000,
        price=300_000,
        platform=platform,
    )
    default_surveys_ensure()
    # The face check runs inside the upload request (eager Celery) and loads dlib on first use: on a busy
    # machine that takes longer than the fixture's 30 s.
    page.set_default_timeout(120_000)

    # 1. Account and email.
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("siti@example.id")
    page.get_by_label("Kata sandi", exact=True).fill("rendang-padang-2026")
    page.get_by_label("Kata sandi (lagi)").fill("rendang-padang-2026")
    page.get_by_role("button", name="Daftar").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    link = wait_until(
        lambda: (
            mail.outbox and re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)
        )
    )
    page.goto(link.group(1))
    page.get_by_role("button", name="Konfirmasi").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))

    # 2. Profile and 3. phone; the civil registry confirms the identity.
    page.goto("/profil/")
    page.get_by_label("NIK (16 digit)").fill("3275015403950002")
    page.get_by_label("Nomor Kartu Keluarga (KK, 16 digit)").fill("3275010101100001")
    page.get_by_label("Nama lengkap sesuai KTP").fill("Siti Nurhaliza")
    page.get_by_label("Tempat lahir").fill("Bekasi")
    page.get_by_label("Tanggal lahir").fill("1995-03-14")
    page.get_by_label("Perempuan").check()
    page.get_by_label("Alamat tempat tinggal").fill("Jl. Merdeka No. 1, RT 01/RW 02, Bekasi Jaya")
    page.get_by_label("Provinsi tempat tinggal").select_option(label="Jawa Barat")
    page.locator("#id_regency option[value='32.75']").wait_for(state="attached")
    page.get_by_label("Kabupaten/kota").select_option(label="Kota Bekasi")
    page.locator("#id_district option[value='32.75.01']").wait_for(state="attached")
    page.get_by_label("Kecamatan").select_option(label="Bekasi Timur")
    page.get_by_label("Pendidikan terakhir").select_option(label="SMA/SMK/sederajat")
    page.get_by_label("Korban PHK").check()
    for checkbox in page.locator(".declarations input[type=checkbox]").all():
        checkbox.check()
    page.get_by_label("Saya setuju data pribadi saya diproses").check()
    page.get_by_role("button", name="Simpan profil saya").click()
    page.wait_for_url(re.compile(r"/profil/nomor-hp/$"))
    page.get_by_label("Nomor HP").fill("0812 3456 7890")
    page.get_by_role("button", name="Kirim kode").click()
    page.wait_for_url(re.compile(r"/profil/nomor-hp/kode/$"))
    message = wait_until(lambda: sms.outbox and sms.outbox[-1])
    page.get_by_label("Kode 6 digit").fill(re.search(r"\b(\d{6})\b", message.body).group(1))
    page.get_by_role("button", name="Verifikasi").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    page.get_by_text("Identitas Anda sesuai dengan data Dukcapil.").wait_for()

    # 4. KYC: selfie and KTP photo, matched by the face engine.
    selfie = tmp_path / "swafoto.jpg"
    selfie.write_bytes(Path(f"{PHOTOS}/1.jpg").read_bytes())
    card = tmp_path / "ktp.jpg"
    with Image.open(f"{PHOTOS}/2.jpg") as image:
        card.write_bytes(_jpeg(ktp_card(portrait_crop(image.convert("RGB")))))
    page.goto("/kyc/")
    page.get_by_label("Foto KTP Anda").set_input_files(str(card))
    page.get_by_label("Swafoto", exact=True).set_input_files(str(selfie))
    page.get_by_label("Saya setuju foto saya digunakan").check()
    page.get_by_role("button", name="Kirim foto").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    page.get_by_text("Wajah Anda cocok dengan foto di KTP.").wait_for(timeout=120_000)

    # 5. Wave: join, then the officer closes it, selects and announces.
    page.goto("/gelombang/")
    page.get_by_role("button", name="Gabung gelombang ini").click()
    cohorts.wave_close(wave=Wave.objects.get(pk=wave.pk))
    for kind in (RunKind.SELECTION, RunKind.ANNOUNCEMENT):
        run = cohorts.selection_run_request(wave=Wave.objects.get(pk=wave.pk), kind=kind, seed="lifecycle")
        cohorts.selection_run_execute(run_id=run.pk)
    participant = Participant.objects.get(applicant__user__email="siti@example.id")

    # 6. Buy with the SMS code.
    page.goto("/pelatihan/")
    page.get_by_role("link", name="Desain Grafis dengan Canva").first.click()
    page.get_by_role("link", name="Beli di Pintaria").click()
    page.get_by_role("button", name="Kirim kode SMS").click()
    page.wait_for_url(re.compile(r"/pelatihan-saya/[0-9a-f-]+/kode/$"))
    page.get_by_label("Kode 6 digit").fill(sms_code(phone=participant.applicant.phone))
    page.get_by_role("button", name="Bayar dengan saldo saya").click()
    page.wait_for_url(re.compile(r"/pelatihan-saya/[0-9a-f-]+/$"))
    voucher = Voucher.objects.get(participant=participant)

    # 7. The platform redeems and completes over HTTP.
    out = io.StringIO()
    call_command(
        "platform_simulator",
        url=live_server.url,
        key_id=key_id,
        secret=secret,
        voucher=voucher.display_code,
        steps="redeem,complete",
        certificate="SERT/PINTARIA/2026/0100",
        score=90,
        stdout=out,
    )
    assert json.loads(out.getvalue().strip().splitlines()[-1])["status"] == "completed"

    # 8. Rate from the voucher page: the incentive schedule starts.
    page.reload()
    page.locator("[data-rate-link]").click()
    page.get_by_label("★★★★★", exact=True).check()
    page.get_by_label("Ulasan Anda").fill("Materinya praktis, contohnya jelas sekali")
    page.get_by_role("button", name="Kirim penilaian saya").click()
    assert page.locator("[data-rating]").is_visible()
    user = participant.applicant.user
    assert list(
        Entitlement.objects.filter(owner=user, kind="training_incentive")
        .order_by("number")
        .values_list("number", "amount")
    ) == [(1, 600_000), (2, 600_000), (3, 600_000), (4, 600_000)]

    # 9. Evaluation survey 1 is open: answer and send it.
    page.goto("/dasbor/")
    page.get_by_role("link", name="Isi survei").first.click()
    page.wait_for_url(re.compile(r"/survei/\d+/$"))
    page.get_by_label("Berwirausaha").check()
    page.locator("fieldset[data-question]").nth(1).get_by_text("5", exact=True).click()
    page.get_by_label("Ya", exact=True).check()
    page.locator("[data-progress-text]").get_by_text("3 dari 5 dijawab").wait_for()
    assert _phone_width_ok(page)
    page.get_by_role("button", name="Kirim jawaban saya").click()
    page.wait_for_url("**/survei/")
    assert SurveyAssignment.objects.get(owner=user, survey__number=1).submitted_at is not None
    assert list(
        Entitlement.objects.filter(owner=user, kind="survey_incentive").values_list("number", "amount")
    ) == [(1, 50_000)]

    # 10. Payout: the participant links OVO (checked at the payout simulator, a real HTTP process), two
    # finance officers prepare and approve the batch, the simulator pays, the status check confirms.
    simulator.accounts(
        {
            "channel": "ovo",
            "account_number": "081234567890",
            "holder_name": "SITI NURHALIZA",
            "nik": "3275015403950002",
        }
    )
    page.goto("/rekening/")
    page.wait_for_url(re.compile(r"/reauthenticate/"))
    page.get_by_label("Kata sandi").fill("rendang-padang-2026")
    page.get_by_role("button", name="Konfirmasi").click()
    page.wait_for_url(re.compile(r"/rekening/$"))
    page.get_by_label("OVO").check()
    page.get_by_role("button", name="Periksa dan kirim kode").click()
    page.wait_for_url(re.compile(r"/rekening/kode/$"))
    page.locator("input[name=code]").fill(sms_code(phone="+6281234567890"))
    page.get_by_role("button", name="Verifikasi").click()
    page.wait_for_url(re.compile(r"/insentif/$"))
    assert page.locator("#incentive-schedule tbody tr").count() == 5  # 4 training incentives + survey 1

    entitlements_accrue_due(today=timezone.localdate())
    batch = batch_prepare(partner=partner, actor=finance_officer("keuangan1@example.id"))
    assert batch.payout_count == 2  # incentive 1 and the survey incentive, both due today
    batch_approve(batch_id=batch.pk, officer=finance_officer("keuangan2@example.id"))

    def all_paid() -> bool:
        for payout_id in Payout.objects.filter(batch=batch).values_list("id", flat=True):
            payout_status_check(payout_id=payout_id)
        return not Payout.objects.filter(batch=batch).exclude(status=PayoutStatus.PAID).exists()

    wait_until(all_paid, timeout=60, interval=0.5, message="the payout to be paid at the simulator")
    paid = Entitlement.objects.filter(owner=user, status="paid")
    assert sorted(paid.values_list("kind", "number", "amount")) == [
        ("survey_incentive", 1, 50_000),
        ("training_incentive", 1, 600_000),
    ]
    page.reload()
    assert "Dibayar" in page.locator("#incentive-schedule").inner_text()
    assert simulator.stats()["disbursements"] == 2
    result = ledger_check()
    assert result.ok, result
