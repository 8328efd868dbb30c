"""Demo complaints: one answered and waiting for the applicant, one overdue in the Finance queue, and a
confirmed "someone registered with my NIK" report in the priority queue (its applicant on hold)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from oversight import monitoring, services
from oversight.enums import ComplaintCategory
from oversight.models import Complaint, MonitorAccess
from oversight.summary import summary_refresh
from prakerja.demo import DemoLogin, demo_user
from prakerja.roles import Role
from registration.models import Applicant


def demo_load(*, stdout) -> list[DemoLogin]:
    _complaints_load(stdout)
    _monitor_load(stdout)
    # oversight is the last app, so every other demo is in: the dashboard and /statistik/ have numbers
    # at once instead of after the first beat run.
    stdout.write(f"Oversight demo: programme summary refreshed ({summary_refresh()} numbers).")
    return [
        DemoLogin("pemantau@prakerja.test", f"{Role.MONITOR.value}: access for 180 days (/staf/pemantauan/)")
    ]


def _monitor_load(stdout) -> None:
    user = demo_user("pemantau@prakerja.test", first_name="Lembaga", last_name="Pemantau", staff=True,
                     roles=[Role.MONITOR])  # fmt: skip
    if MonitorAccess.objects.filter(user=user).exists():
        return
    officer = get_user_model().objects.filter(email="petugas@prakerja.test").first()
    monitoring.monitor_access_set(
        access_id=None,
        user=user,
        institution="Lembaga Pemantau Independen (demo)",
        expires_on=timezone.localdate() + datetime.timedelta(days=180),
        actor=officer,
    )
    stdout.write("Oversight demo: monitoring access for pemantau@prakerja.test (180 days).")


def _complaints_load(stdout) -> None:
    if Complaint.objects.exists():
        return
    users = get_user_model().objects
    applicant = Applicant.objects.filter(user__email="peserta@prakerja.test").first()
    reviewer = users.filter(email="kyc@prakerja.test").first()
    if applicant is None or reviewer is None:
        return
    waiting = services.complaint_file(
        reporter=applicant.user,
        category=ComplaintCategory.KYC,
        title="Kamera tidak mau terbuka",
        description="Saat mengunggah swafoto, kamera di HP saya tidak terbuka. Saya memakai HP Android.",
    )
    services.complaint_reply(
        complaint_id=waiting.pk,
        officer=reviewer,
        body="Silakan izinkan akses kamera untuk browser Anda, atau pilih foto dari galeri. Apakah berhasil?",
        waiting_for_person=True,
    )
    participant = Applicant.objects.filter(user__email="kartu@cohorts.demo.prakerja.test").first()
    if participant is not None:
        overdue = services.complaint_file(
            reporter=participant.user,
            category=ComplaintCategory.PAYOUT,
            title="Rekening belum bisa ditautkan",
            description="Saya mencoba menautkan e-wallet tetapi selalu gagal. Mohon bantuannya.",
        )
        Complaint.objects.filter(pk=overdue.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=5),
            first_answer_due=timezone.now() - datetime.timedelta(days=1),
        )
    target = Applicant.objects.filter(user__email="dikecualikan@demo.prakerja.test").first()
    if target is not None:
        report = services.nik_misuse_report(
            nik=target.nik,
            phone="+6281399990001",
            description="Saya menerima SMS dari Prakerja padahal tidak pernah mendaftar.",
        )
        code = "246810"
        Complaint.objects.filter(pk=report.pk).update(confirm_code_hash=services._code_hash(report.pk, code))
        services.nik_misuse_confirm(complaint_id=report.pk, code=code)
    stdout.write(
        "Oversight demo: complaints (one waiting for the applicant, one overdue, one NIK-misuse report)."
    )
    return []
