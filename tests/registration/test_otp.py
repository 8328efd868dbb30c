"""One-time SMS codes (prakerja.otp) and the mobile-number verification built on them."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from prakerja.models import Notification, OneTimeCode
from prakerja.otp import OtpError, otp_send, otp_verify
from registration.models import Applicant
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+6281234567890"


def sent_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)


@pytest.fixture
def user():
    return UserFactory()


def test_code_is_sent_by_sms_in_indonesian_and_stored_hashed(
    user, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = otp_send(user=user, phone=PHONE, purpose="phone_verify")
    assert [message.to for message in sms_outbox] == [PHONE]
    code = sent_code(sms_outbox)
    assert sms_outbox[0].body == (
        f"{code} adalah kode Prakerja Anda untuk verifikasi nomor HP Anda. Berlaku 5 menit. "
        "JANGAN berikan kode ini kepada siapa pun, termasuk petugas."
    )
    row = OneTimeCode.objects.get(pk=sent.code_id)
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert (row.expires_at - row.created_at) == timedelta(minutes=5)
    notification = Notification.objects.get()
    assert (notification.sensitive, notification.status, notification.body) == (True, "sent", "")


def test_english_speakers_get_english_sms(sms_outbox, django_capture_on_commit_callbacks):
    user = UserFactory(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="purchase")
    assert sms_outbox[0].body.endswith(
        "is your Prakerja code to confirm your training purchase. Valid for 5 minutes. "
        "NEVER share this code with anyone, including officers."
    )


def test_right_code_is_accepted_once(user, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    code = sent_code(sms_outbox)
    assert otp_verify(user=user, purpose="phone_verify", code=f" {code[:3]} {code[3:]} ").phone == PHONE
    with pytest.raises(OtpError) as caught:
        otp_verify(user=user, purpose="phone_verify", code=code)
    assert caught.value.code == "no_code"


def test_codes_are_scoped_to_purpose_and_account(user, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    code = sent_code(sms_outbox)
    with pytest.raises(OtpError) as caught:
        otp_verify(user=user, purpose="purchase", code=code)
    assert caught.value.code == "no_code"
    with pytest.raises(OtpError) as caught:
        otp_verify(user=UserFactory(), purpose="phone_verify", code=code)
    assert caught.value.code == "no_code"


def test_wrong_code_counts_down_attempts(user, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    code = sent_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    with pytest.raises(OtpError) as caught:
        otp_verify(user=user, purpose="phone_verify", code=wrong)
    assert (caught.value.code, caught.value.attempts_left) == ("wrong_code", 4)
    assert caught.value.message == "Kode salah. Kesempatan Anda tinggal 4 kali lagi."
    assert OneTimeCode.objects.get().attempts == 1


def test_five_wrong_attempts_lock_the_code_even_for_the_right_one(
    user, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    code = sent_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    codes = []
    for _ in range(5):
        with pytest.raises(OtpError) as caught:
            otp_verify(user=user, purpose="phone_verify", code=wrong)
        codes.append(caught.value.code)
    assert codes == ["wrong_code"] * 4 + ["too_many_attempts"]
    with pytest.raises(OtpError) as caught:
        otp_verify(user=user, purpose="phone_verify", code=code)
    assert caught.value.code == "too_many_attempts"
    assert caught.value.message == "Anda terlalu sering memasukkan kode yang salah. Minta kode baru."


def test_code_expires_after_five_minutes(user, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    code = sent_code(sms_outbox)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(OtpError) as caught:
        otp_verify(user=user, purpose="phone_verify", code=code)
    assert caught.value.code == "expired"
    assert caught.value.message == "Kode ini sudah kedaluwarsa. Minta kode baru."


def test_a_new_code_replaces_the_old_one(user, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    first = sent_code(sms_outbox)
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    second = sent_code(sms_outbox)
    if first != second:
        with pytest.raises(OtpError) as caught:
            otp_verify(user=user, purpose="phone_verify", code=first)
        assert caught.value.code == "wrong_code"
    assert otp_verify(user=user, purpose="phone_verify", code=second).phone == PHONE


def test_resend_needs_a_minute(user):
    otp_send(user=user, phone=PHONE, purpose="phone_verify")
    with pytest.raises(OtpError) as caught:
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    assert caught.value.code == "resend_too_soon"
    assert 59 <= caught.value.retry_after <= 60
    assert re.fullmatch(r"Tunggu (59|60) detik sebelum meminta kode baru\.", caught.value.message)
    assert OneTimeCode.objects.count() == 1


def _age_all_codes(seconds=61):
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_rate_limit_per_number_across_accounts(settings):
    assert settings.OTP_PHONE_LIMIT_PER_HOUR == 5
    for _ in range(5):
        otp_send(user=UserFactory(), phone=PHONE, purpose="phone_verify")
    with pytest.raises(OtpError) as caught:
        otp_send(user=UserFactory(), phone=PHONE, purpose="phone_verify")
    assert caught.value.code == "phone_limit"
    assert caught.value.message.startswith("Terlalu banyak kode yang dikirim ke nomor ini. Tunggu ")
    # Another number is not affected.
    otp_send(user=UserFactory(), phone="+6281299990000", purpose="phone_verify")


def test_rate_limit_per_account_across_numbers(user, settings):
    assert settings.OTP_USER_LIMIT_PER_HOUR == 5
    for n in range(5):
        otp_send(user=user, phone=f"+62812999900{n:02d}", purpose="phone_verify")
        _age_all_codes()
    with pytest.raises(OtpError) as caught:
        otp_send(user=user, phone="+6281299990099", purpose="phone_verify")
    assert caught.value.code == "account_limit"
    assert caught.value.retry_after > 3000  # the oldest code leaves the hour window in ~59 minutes


def test_daily_limit(user, settings):
    settings.OTP_USER_LIMIT_PER_HOUR = 100
    settings.OTP_PHONE_LIMIT_PER_HOUR = 100
    for _ in range(10):
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
        OneTimeCode.objects.update(created_at=timezone.now() - timedelta(hours=2))
    with pytest.raises(OtpError) as caught:
        otp_send(user=user, phone=PHONE, purpose="phone_verify")
    assert caught.value.code == "phone_limit"


def test_otp_send_wants_e164():
    with pytest.raises(ValueError):
        otp_send(user=UserFactory(), phone="0812345", purpose="phone_verify")


# --- The mobile-number pages -------------------------------------------------------------


def test_phone_verification_pages(client, sms_outbox, django_capture_on_commit_callbacks):
    applicant = ApplicantFactory(phone="", phone_verified_at=None)
    client.force_login(applicant.user)
    page = client.get(reverse("registration:phone"))
    assert "Verifikasi nomor HP Anda" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration:phone"), {"phone": "0812-3456-7890"})
    assert response["Location"] == reverse("registration:phone_code")
    html = client.get(reverse("registration:phone_code")).content.decode()
    assert "0812••••7890" in html
    response = client.post(
        reverse("registration:phone_code"),
        {"code": "000000" if sent_code(sms_outbox) != "000000" else "111111"},
    )
    assert "Kode salah. Kesempatan Anda tinggal 4 kali lagi." in response.content.decode()
    response = client.post(reverse("registration:phone_code"), {"code": sent_code(sms_outbox)})
    assert response["Location"] == reverse("dashboard")
    applicant.refresh_from_db()
    assert applicant.phone == PHONE and applicant.phone_verified_at is not None


def test_phone_form_rejects_landlines_in_indonesian(client):
    client.force_login(UserFactory())
    response = client.post(reverse("registration:phone"), {"phone": "021 2345 678"})
    assert "Ini tampaknya nomor telepon rumah" in response.content.decode()
    assert not OneTimeCode.objects.exists()


def test_a_number_verified_by_someone_else_is_refused(client):
    ApplicantFactory(phone=PHONE)
    client.force_login(UserFactory())
    response = client.post(reverse("registration:phone"), {"phone": PHONE})
    assert "Nomor HP ini sudah diverifikasi oleh pendaftar lain" in response.content.decode()
    assert not OneTimeCode.objects.exists()


def test_phone_can_be_verified_before_the_profile(client, sms_outbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registration:phone"), {"phone": PHONE})
    client.post(reverse("registration:phone_code"), {"code": sent_code(sms_outbox)})
    applicant = Applicant.objects.get(user=user)
    assert (applicant.nik, applicant.phone) == (None, PHONE)


def test_resend_button(client, sms_outbox, django_capture_on_commit_callbacks):
    client.force_login(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registration:phone"), {"phone": PHONE})
    response = client.post(reverse("registration:phone_resend"), follow=True)
    assert "Tunggu" in response.content.decode()
    _age_all_codes()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registration:phone_resend"), follow=True)
    assert "Kami sudah mengirim kode baru" in response.content.decode()
    assert len(sms_outbox) == 2
