"""The applicant's side: the upload page, quick checks, the dashboard step, retries."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageEnhance

from kyc.enums import CaseStatus, ReviewReason, SubmissionStatus
from kyc.models import KycCase, KycSubmission, VerifiedFace
from kyc.services import draft_name
from prakerja.models import Notification
from tests.factories import ApplicantFactory, UserFactory
from tests.kyc.conftest import to_jpeg
from tests.kyc.factories import KycCaseFactory

pytestmark = pytest.mark.django_db

UPLOAD = "/kyc/"


def files(selfie: bytes | None, ktp: bytes | None, *, consent: bool = True) -> dict:
    data = {"consent": "on"} if consent else {}
    if selfie is not None:
        data["selfie"] = SimpleUploadedFile("selfie.jpg", selfie, "image/jpeg")
    if ktp is not None:
        data["ktp"] = SimpleUploadedFile("ktp.jpg", ktp, "image/jpeg")
    return data


@pytest.fixture
def applicant(client):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    return applicant


def test_upload_url_is_under_kyc():
    assert reverse("kyc:upload") == UPLOAD


def test_upload_page_needs_a_login(client):
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_upload_waits_for_a_complete_profile(client):
    applicant = ApplicantFactory(profile_completed_at=None)
    client.force_login(applicant.user)
    html = client.get(UPLOAD).content.decode()
    assert "Lengkapi profil Anda terlebih dahulu" in html
    assert 'type="file"' not in html
    response = client.post(UPLOAD, files(b"x", b"y"))
    assert KycSubmission.objects.count() == 0
    assert "Lengkapi profil Anda terlebih dahulu" in response.content.decode()


def test_account_without_applicant_cannot_upload(client):
    client.force_login(UserFactory())
    assert "Hanya pendaftar yang dapat" in client.get(UPLOAD).content.decode()


def test_upload_page_opens_the_camera_and_explains_in_indonesian(client, applicant):
    html = client.get(UPLOAD).content.decode()
    assert 'capture="user"' in html
    assert 'capture="environment"' in html
    assert 'accept="image/jpeg,image/png,image/webp"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "Tanpa masker, topi, atau kacamata" in html
    assert "Letakkan di permukaan datar dan pastikan seluruh kartu masuk ke foto" in html
    assert "JPG, PNG, atau WEBP, maksimal 10 MB." in html
    assert "Ini percobaan ke-1 dari 3." in html


def test_upload_returns_at_once_and_the_worker_verifies(
    client, applicant, photo, ktp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(UPLOAD, files(photo("obama", 1), ktp("obama", 2)))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    case = KycCase.objects.get(applicant=applicant)
    assert case.status == CaseStatus.PROCESSING
    submission = case.submissions.get()
    assert submission.status == SubmissionStatus.QUEUED
    # While the task is queued the dashboard says so and polls.
    waiting = client.get(reverse("dashboard")).content.decode()
    assert "Sedang diverifikasi" in waiting
    assert "data-poll-url" in waiting

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    case.refresh_from_db()
    submission.refresh_from_db()
    assert case.status == CaseStatus.VERIFIED
    assert case.attempts_used == 1
    assert case.decided_by is None
    assert submission.status == SubmissionStatus.DONE
    assert (submission.verdict, submission.system_verdict, submission.reason) == ("verified", "verified", "")
    assert submission.distance == pytest.approx(0.3519, abs=0.003)
    assert (submission.faces_selfie, submission.faces_ktp) == (1, 1)
    assert submission.model_name == "dlib_face_recognition_resnet_model_v1"
    assert submission.decided_by_label == "sistem"
    assert set(submission.timings) >= {"prepare_ms", "detect_ms", "encode_ms", "total_ms", "duplicates_ms"}
    assert VerifiedFace.objects.get(applicant=applicant).submission == submission
    # Stored photos are clean JPEGs in private storage, under random names.
    for name in (submission.selfie.name, submission.ktp.name):
        assert name.startswith("kyc/") and name.endswith(".jpg")
        with default_storage.open(name, "rb") as handle:
            stored = Image.open(io.BytesIO(handle.read()))
            assert (stored.format, dict(stored.getexif())) == ("JPEG", {})
    done = client.get(reverse("dashboard") + "?fragment=timeline").content.decode()
    assert "Wajah Anda cocok dengan foto di KTP." in done
    assert 'data-polls="0"' in done
    subjects = set(Notification.objects.filter(user=applicant.user).values_list("channel", "subject"))
    assert subjects == {("email", "[Prakerja] Identitas Anda terverifikasi"), ("sms", "")}


def test_mismatch_explains_and_allows_a_retry(
    client, applicant, photo, ktp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(UPLOAD, files(photo("obama", 1), ktp("biden", 2)))
    case = KycCase.objects.get(applicant=applicant)
    assert (case.status, case.attempts_used, case.attempts_left) == (CaseStatus.RETRY, 1, 2)
    assert case.latest_submission.reason == "mismatch"
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Wajah di swafoto Anda tidak cocok dengan pasfoto di KTP." in dashboard
    assert "Kesempatan Anda tinggal 2 kali." in dashboard
    assert "Unggah foto baru" in dashboard
    page = client.get(UPLOAD).content.decode()
    assert "Foto terakhir Anda belum dapat diverifikasi." in page
    assert "Ini percobaan ke-2 dari 3." in page


def test_three_failed_attempts_go_to_manual_review(
    client, applicant, photo, ktp, fake_engine, django_capture_on_commit_callbacks
):
    fake_engine.plan("rejected", reason="no_face_selfie", distance=None, faces=(0, 0), failed_image="selfie")
    fake_engine.plan(
        "rejected", reason="many_faces_selfie", distance=None, faces=(2, 0), failed_image="selfie"
    )
    fake_engine.plan("rejected", reason="mismatch", distance=0.81)
    for _attempt in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(UPLOAD, files(photo("obama", 1), ktp("obama", 2)))
        assert response.status_code == 302
    case = KycCase.objects.get(applicant=applicant)
    assert (case.status, case.review_reason, case.attempts_used) == (
        CaseStatus.REVIEW,
        ReviewReason.ATTEMPTS_EXHAUSTED,
        3,
    )
    assert list(case.submissions.order_by("number").values_list("number", "reason")) == [
        (1, "no_face_selfie"),
        (2, "many_faces_selfie"),
        (3, "mismatch"),
    ]
    assert (
        "Petugas sedang memeriksa foto Anda secara manual"
        in client.get(reverse("dashboard")).content.decode()
    )
    blocked = client.post(UPLOAD, files(photo("obama", 1), ktp("obama", 2)))
    assert "Anda tidak perlu mengunggahnya lagi" in blocked.content.decode()
    assert case.submissions.count() == 3


def test_unreadable_file_is_refused_at_once_and_the_good_photo_is_kept(
    client, applicant, photo, ktp, fake_engine, django_capture_on_commit_callbacks
):
    response = client.post(UPLOAD, files(b"Ini bukan foto", ktp("obama", 2)))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in html
    assert "File swafoto bukan foto atau rusak. Unggah foto berformat JPG, PNG, atau WEBP." in html
    assert "✓ Sudah kami terima. Pilih lagi hanya jika ingin menggantinya." in html
    assert KycSubmission.objects.count() == 0
    assert default_storage.exists(draft_name(applicant_id=applicant.id, image="ktp"))
    # Second try: only the selfie is sent again; the KTP photo comes from the draft.
    fake_engine.plan("verified", distance=0.33, encoding=[0.1] * 128)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(UPLOAD, files(photo("obama", 1), None))
    assert response.status_code == 302
    assert KycCase.objects.get(applicant=applicant).status == CaseStatus.VERIFIED
    assert not default_storage.exists(draft_name(applicant_id=applicant.id, image="ktp"))


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("dark", "Swafoto Anda terlalu gelap. Ambil di tempat yang terang"),
        ("tiny", "Swafoto Anda terlalu kecil atau wajah Anda terlalu jauh."),
    ],
)
def test_quality_problems_are_explained_at_upload(client, applicant, photo_image, ktp, variant, message):
    image = photo_image("obama", 1)
    if variant == "dark":
        image = ImageEnhance.Brightness(image).enhance(0.15)
    else:
        image.thumbnail((200, 250))
    html = client.post(UPLOAD, files(to_jpeg(image), ktp("obama", 2))).content.decode()
    assert message in html
    assert KycSubmission.objects.count() == 0


def test_file_over_the_limit_is_cut_off_while_uploading(client, applicant, photo, ktp, settings):
    settings.KYC_MAX_UPLOAD_BYTES = 150_000
    big = photo("obama", 1)  # 280 kB
    assert len(big) > 150_000
    html = client.post(UPLOAD, files(big, ktp("obama", 2))).content.decode()
    assert "File swafoto terlalu besar. Batasnya 0.143051 MB dan 50 megapiksel" in html
    assert KycSubmission.objects.count() == 0


def test_consent_is_required_and_photos_are_kept(client, applicant, photo, ktp):
    html = client.post(UPLOAD, files(photo("obama", 1), ktp("obama", 2), consent=False)).content.decode()
    assert "Centang kotak ini tanda Anda setuju" in html
    assert html.count("✓ Sudah kami terima.") == 2
    assert KycSubmission.objects.count() == 0


def test_a_refused_new_photo_says_the_earlier_one_is_still_used(client, applicant, photo, photo_image, ktp):
    client.post(UPLOAD, files(photo("obama", 1), ktp("obama", 2), consent=False))  # both kept as drafts
    dark = to_jpeg(ImageEnhance.Brightness(photo_image("obama", 1)).enhance(0.15))
    html = client.post(UPLOAD, files(dark, None)).content.decode()
    assert "Swafoto Anda terlalu gelap." in html
    assert (
        "Foto Anda sebelumnya tetap kami simpan: foto itu dipakai jika Anda mengirim tanpa memilih foto baru."
        in (html)
    )
    assert KycSubmission.objects.count() == 0


def test_no_second_upload_while_one_is_being_verified(client, applicant, photo, ktp):
    KycCaseFactory(applicant=applicant, status=CaseStatus.PROCESSING)
    html = client.post(UPLOAD, files(photo("obama", 1), ktp("obama", 2))).content.decode()
    assert "Foto Anda sedang diverifikasi. Hasilnya akan muncul di dasbor Anda." in html
    assert KycSubmission.objects.count() == 0


def test_dashboard_step_is_locked_before_the_profile(client):
    applicant = ApplicantFactory(profile_completed_at=None)
    client.force_login(applicant.user)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-step="kyc"' in html
    assert "Setelah profil lengkap: foto KTP dan swafoto." in html


def test_dashboard_invites_the_upload(client, applicant):
    html = client.get(reverse("dashboard")).content.decode()
    assert "Unggah foto KTP dan swafoto agar kami dapat memastikan" in html
    assert f'href="{UPLOAD}"' in html


def test_dashboard_shows_a_rejection_with_its_reason(client, applicant):
    KycCaseFactory(applicant=applicant, status=CaseStatus.REJECTED, reject_reason="different_person")
    html = client.get(reverse("dashboard")).content.decode()
    assert "Petugas telah membandingkan foto Anda: swafoto dan KTP menunjukkan orang yang berbeda." in html
    assert "Hubungi pusat layanan" in html


def test_english_interface(client, applicant):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(UPLOAD).content.decode()
    assert "No mask, hat or glasses" in html


def test_camera_inputs_are_labelled_and_described_and_the_consent_says_one_retention(client, applicant):
    html = client.get(reverse("kyc:upload")).content.decode()
    for name in ("ktp", "selfie"):
        assert f'<label for="id_{name}">' in html
        assert f'aria-describedby="id_{name}_helptext"' in html
    assert "dihapus 90 hari setelah keputusan" in html
    assert "dihapus setelah keputusan" not in html
    assert 'role="status" data-kyc-progress' in html
