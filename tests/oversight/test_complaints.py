"""Complaints: filing, who sees what, the officers' actions, service levels and the NIK-misuse report."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cohorts import services as cohort_services
from oversight import services
from oversight.enums import ComplaintCategory, ComplaintStatus
from oversight.models import Complaint
from oversight.selectors import complaints_visible_to
from prakerja.models import AuditEntry, Notification
from prakerja.roles import Role
from registration.enums import Channel
from registration.services import applicant_eligibility
from tests.factories import ApplicantFactory, UserFactory
from tests.registration.factories import disnaker_user, officer

pytestmark = pytest.mark.django_db


def _staff(role: str, email: str):
    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _file(applicant, category=ComplaintCategory.KYC, **kwargs) -> Complaint:
    return services.complaint_file(
        reporter=applicant.user,
        category=category,
        title=kwargs.pop("title", "Foto saya ditolak"),
        description=kwargs.pop(
            "description", "Saya sudah mengunggah foto yang jelas tetapi ditolak tiga kali."
        ),
        **kwargs,
    )


def test_working_days_skip_the_weekend():
    friday = timezone.make_aware(datetime.datetime(2026, 12, 4, 10, 0))
    assert services.add_working_days(friday, 2).date() == datetime.date(2026, 12, 8)  # Tuesday
    monday = timezone.make_aware(datetime.datetime(2026, 12, 7, 10, 0))
    assert services.add_working_days(monday, 2).date() == datetime.date(2026, 12, 9)


def test_working_days_skip_public_holidays_and_cuti_bersama():
    # Wed 23 Dec 2026: Thu 24 is cuti bersama, Fri 25 Christmas, then the weekend.
    wednesday = timezone.make_aware(datetime.datetime(2026, 12, 23, 10, 0))
    assert services.add_working_days(wednesday, 2).date() == datetime.date(2026, 12, 29)
    # Independence Day, Monday 17 August 2026.
    friday = timezone.make_aware(datetime.datetime(2026, 8, 14, 10, 0))
    assert services.add_working_days(friday, 1).date() == datetime.date(2026, 8, 18)


def test_working_days_skip_extra_days_off_set_by_the_programme(settings):
    settings.COMPLAINT_EXTRA_NON_WORKING_DAYS = [datetime.date(2026, 12, 7)]
    friday = timezone.make_aware(datetime.datetime(2026, 12, 4, 10, 0))
    assert services.add_working_days(friday, 2).date() == datetime.date(2026, 12, 9)


def test_a_person_files_a_complaint_with_an_attachment_and_gets_a_ticket(client):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    response = client.post(
        reverse("oversight:complaint_new"),
        {
            "category": "kyc",
            "subject_ref": "",
            "title": "Foto saya ditolak",
            "description": "Saya sudah mengunggah foto yang jelas tetapi ditolak tiga kali.",
            "attachment": SimpleUploadedFile("layar.png", _png(), content_type="image/png"),
        },
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("oversight:complaint_detail", args=[complaint.ticket])
    assert re.fullmatch(r"ADU-[2-9A-HJ-NP-Z]{8}", complaint.ticket)
    assert (complaint.category, complaint.status, complaint.province_id) == ("kyc", "open", "32")
    assert complaint.attachment_type == "image/jpeg"  # re-encoded, without metadata
    assert complaint.first_answer_due > complaint.created_at
    assert (complaint.resolution_due - complaint.created_at).days == 14
    assert AuditEntry.objects.filter(action="oversight.complaint_filed", target_id=str(complaint.pk)).exists()
    assert Notification.objects.filter(user=applicant.user, channel="email").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert complaint.ticket in page and "Foto saya ditolak" in page
    download = client.get(reverse("oversight:complaint_attachment", args=[complaint.ticket]))
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00 not a picture", "Lampirkan foto (JPEG, PNG) atau berkas PDF."),
        (b"%PDF-1.4 truncated", "Berkas PDF rusak atau tidak lengkap."),
    ],
)
def test_attachments_other_than_pictures_and_pdf_are_refused(client, data, message):
    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    response = client.post(
        reverse("oversight:complaint_new"),
        {
            "category": "other",
            "title": "Lampiran aneh",
            "description": "Ini adalah uraian yang cukup panjang untuk pengaduan.",
            "attachment": SimpleUploadedFile("x.exe", data),
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_person_sees_only_their_own_complaints(client):
    mine = _file(ApplicantFactory(), attachment=services.attachment_check(data=_png(), name="a.png"))
    other = ApplicantFactory()
    client.force_login(other.user)
    assert client.get(reverse("oversight:complaint_detail", args=[mine.ticket])).status_code == 404
    assert client.get(reverse("oversight:complaint_attachment", args=[mine.ticket])).status_code == 403
    assert mine.ticket not in client.get(reverse("oversight:complaint_list")).content.decode()
    client.logout()
    assert client.get(reverse("oversight:complaint_detail", args=[mine.ticket])).status_code == 302


def test_officers_see_the_categories_of_their_role_and_disnaker_their_province():
    jabar = ApplicantFactory(district_code="32.75.01")
    jakarta = ApplicantFactory(district_code="31.71.01")
    kyc_jabar = _file(jabar, ComplaintCategory.KYC)
    payout_jakarta = _file(jakarta, ComplaintCategory.PAYOUT)
    selection_jabar = _file(jabar, ComplaintCategory.SELECTION)
    selection_jakarta = _file(jakarta, ComplaintCategory.SELECTION)

    def visible(user):
        return set(complaints_visible_to(user).values_list("pk", flat=True))

    everything = {kyc_jabar.pk, payout_jakarta.pk, selection_jabar.pk, selection_jakarta.pk}
    assert visible(officer()) == everything
    assert visible(_staff(Role.KYC_REVIEWER, "kyc@x.id")) == {kyc_jabar.pk}
    assert visible(_staff(Role.FINANCE_OFFICER, "fin@x.id")) == {payout_jakarta.pk}
    assert visible(disnaker_user("32")) == {selection_jabar.pk}
    assert visible(jabar.user) == set()


def test_admin_queue_shows_only_what_the_role_may_see(client):
    jabar = ApplicantFactory()
    kyc = _file(jabar, ComplaintCategory.KYC)
    payout = _file(jabar, ComplaintCategory.PAYOUT)
    client.force_login(_staff(Role.FINANCE_OFFICER, "fin@x.id"))
    page = client.get(reverse("admin:oversight_complaint_changelist")).content.decode()
    assert payout.ticket in page and kyc.ticket not in page
    assert client.get(reverse("admin:oversight_complaint_change", args=[kyc.pk])).status_code == 302
    response = client.post(
        reverse("admin:oversight_complaint_handle", args=[kyc.pk]), {"action": "reply", "body": "Halo"}
    )
    assert response.status_code == 403
    assert not kyc.messages.exists()


def test_officer_reply_reaches_the_person_who_answers_back(client):
    applicant = ApplicantFactory()
    complaint = _file(applicant, ComplaintCategory.KYC)
    reviewer = _staff(Role.KYC_REVIEWER, "kyc@x.id")
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:oversight_complaint_handle", args=[complaint.pk]),
        {"action": "wait", "body": "Mohon kirim foto KTP yang tidak silau."},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.WAITING
    assert complaint.first_answer_at is not None and complaint.assigned_to == reviewer
    sms_bodies = list(
        Notification.objects.filter(user=applicant.user, channel="sms").values_list("body", flat=True)
    )
    assert any(complaint.ticket in body for body in sms_bodies)
    assert AuditEntry.objects.filter(action="oversight.complaint_replied", actor=reviewer).count() == 1

    client.force_login(applicant.user)
    page = client.get(reverse("oversight:complaint_detail", args=[complaint.ticket])).content.decode()
    assert "Mohon kirim foto KTP yang tidak silau." in page
    assert "Petugas menunggu jawaban Anda." in page
    client.post(
        reverse("oversight:complaint_detail", args=[complaint.ticket]), {"body": "Sudah saya kirim ulang."}
    )
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ANSWERED
    assert list(complaint.messages.values_list("from_staff", flat=True)) == [True, False]


def test_resolved_complaints_can_be_reopened_within_14_days_only():
    applicant = ApplicantFactory()
    complaint = _file(applicant)
    reviewer = _staff(Role.KYC_REVIEWER, "kyc@x.id")
    services.complaint_resolve(complaint_id=complaint.pk, officer=reviewer, body="Sudah kami perbaiki.")
    complaint.refresh_from_db()
    services.complaint_reopen(complaint=complaint, user=applicant.user, body="Masih ditolak.")
    assert complaint.status == ComplaintStatus.OPEN and complaint.reopen_count == 1
    services.complaint_resolve(complaint_id=complaint.pk, officer=reviewer, body="Sudah benar sekarang.")
    Complaint.objects.filter(pk=complaint.pk).update(resolved_at=timezone.now() - datetime.timedelta(days=15))
    complaint.refresh_from_db()
    with pytest.raises(services.ComplaintError, match="14"):
        services.complaint_reopen(complaint=complaint, user=applicant.user, body="Lagi")
    with pytest.raises(PermissionDenied):
        services.complaint_reopen(complaint=complaint, user=ApplicantFactory().user, body="Bukan milik saya")


def test_overdue_complaints_are_escalated_once():
    complaint = _file(ApplicantFactory())
    later = complaint.first_answer_due + datetime.timedelta(hours=1)
    assert services.complaints_escalate_overdue(now=later) == 1
    assert services.complaints_escalate_overdue(now=later) == 0
    complaint.refresh_from_db()
    assert complaint.escalated_at == later
    answered = _file(ApplicantFactory(), title="Sudah dijawab")
    services.complaint_reply(complaint_id=answered.pk, officer=officer(), body="Kami periksa.")
    assert services.complaints_escalate_overdue(now=later) == 0


def test_nik_misuse_report_with_sms_code_freezes_the_applicant_until_an_officer_decides(client):
    victim_nik_holder = ApplicantFactory()  # someone registered with this NIK
    nik = victim_nik_holder.nik
    response = client.post(
        reverse("oversight:nik_report"),
        {
            "nik": nik,
            "phone": "0813 1111 2222",
            "description": "Saya menerima SMS Prakerja padahal tidak mendaftar.",
        },
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.status == ComplaintStatus.UNCONFIRMED and complaint.priority
    # Not in anyone's queue before the code, and the applicant goes on as before.
    assert not complaints_visible_to(officer()).exists()
    victim_nik_holder.refresh_from_db()
    assert victim_nik_holder.frozen_at is None
    code = re.search(r"\b(\d{6})\b", Notification.objects.get(recipient="+6281311112222").body).group(1)

    wrong = "000000" if code != "000000" else "111111"
    page = client.post(reverse("oversight:nik_report_code"), {"code": wrong}).content.decode()
    assert "Kode tidak benar" in page
    complaint.refresh_from_db()
    assert complaint.confirm_attempts == 1

    page = client.post(reverse("oversight:nik_report_code"), {"code": code}).content.decode()
    assert complaint.ticket in page
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN and complaint.applicant == victim_nik_holder
    victim_nik_holder.refresh_from_db()
    assert victim_nik_holder.frozen_at is not None
    assert "frozen" in {r.code for r in applicant_eligibility(applicant=victim_nik_holder).reasons}
    wave_check = cohort_services.wave_join_check(applicant=victim_nik_holder, wave=None)
    assert "frozen" in {r.code for r in wave_check.reasons}

    # A KYC reviewer (NIK misuse is theirs) decides the registration is genuine and lifts the hold.
    reviewer = _staff(Role.KYC_REVIEWER, "kyc@x.id")
    services.complaint_resolve(
        complaint_id=complaint.pk, officer=reviewer, body="Pendaftaran ini sah.", lift_hold=True
    )
    victim_nik_holder.refresh_from_db()
    assert victim_nik_holder.frozen_at is None
    assert AuditEntry.objects.filter(action="registration.applicant_unfrozen", actor=reviewer).exists()
    # The reporter has no account: the answer goes by SMS to the confirmed number.
    assert Notification.objects.filter(recipient="+6281311112222", body__contains=complaint.ticket).exists()


def test_nik_misuse_reports_are_limited_per_phone():
    nik = ApplicantFactory().nik
    for _ in range(3):
        services.nik_misuse_report(nik=nik, phone="+6281311112222", description="Bukan saya yang mendaftar.")
    with pytest.raises(services.ComplaintError):
        services.nik_misuse_report(nik=nik, phone="+6281311112222", description="Bukan saya yang mendaftar.")


def test_the_code_page_needs_the_report_of_this_browser(client):
    services.nik_misuse_report(nik=ApplicantFactory().nik, phone="+6281311112222", description="Bukan saya.")
    response = client.post(reverse("oversight:nik_report_code"), {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == reverse("oversight:nik_report")


def test_frozen_applicants_are_ruled_out_by_the_selection():
    from cohorts.enums import ApplicationStatus, RunKind, WaveStatus
    from cohorts.models import Application
    from registration.services import applicant_freeze
    from tests.cohorts.factories import WaveFactory, pool, programme

    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=10)
    applicants = pool(wave, district_code="32.75.01", count=3)
    applicant_freeze(applicant=applicants[0], reason="laporan uji")
    run = cohort_services.selection_run_request(wave=wave, kind=RunKind.SELECTION, seed="s")
    cohort_services.selection_run_execute(run_id=run.pk)
    frozen = Application.objects.get(wave=wave, applicant=applicants[0])
    assert (frozen.status, frozen.ineligible_reason) == (ApplicationStatus.INELIGIBLE, "frozen")


def test_disnaker_files_for_people_registered_offline_in_their_province(client):
    staff = disnaker_user("32")
    offline = ApplicantFactory(channel=Channel.OFFLINE, registered_by=staff)
    elsewhere = ApplicantFactory(channel=Channel.OFFLINE, district_code="31.71.01")
    client.force_login(staff)
    data = {
        "nik": elsewhere.nik,
        "category": "selection",
        "title": "Belum ada kabar",
        "description": "Warga ini belum menerima kabar hasil seleksi gelombang.",
    }
    response = client.post(reverse("oversight:staff_complaint_new"), data)
    assert "Tidak ada orang dengan NIK ini" in response.content.decode()
    response = client.post(reverse("oversight:staff_complaint_new"), data | {"nik": offline.nik})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.reporter, complaint.filed_by, complaint.province_id) == (offline.user, staff, "32")
    assert complaint.ticket in client.get(reverse("oversight:staff_complaints")).content.decode()
    # Applicants and other officers cannot use the staff pages.
    client.force_login(offline.user)
    assert client.get(reverse("oversight:staff_complaint_new")).status_code == 403


def test_complaint_emails_are_sent_in_the_person_language():
    applicant = ApplicantFactory()
    applicant.user.language = "en"
    applicant.user.save()
    complaint = _file(applicant)
    from prakerja.notifications import notifications_sweep

    notifications_sweep()
    assert [m.subject for m in mail.outbox] == [f"[Prakerja] Complaint {complaint.ticket} received"]


@pytest.mark.parametrize("rows", [1, 3])
def test_complaint_list_query_count_does_not_grow(client, django_assert_max_num_queries, rows):
    applicant = ApplicantFactory()
    for i in range(rows):
        _file(applicant, title=f"Pengaduan nomor {i}")
    client.force_login(applicant.user)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("oversight:complaint_list")).status_code == 200
