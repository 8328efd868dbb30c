"""Benchmark: a Disnaker submission of many offline registrations, sent and decided, among other applicants.

PostgreSQL only; the database is migrated and filled (use a throwaway one). Prints numbers; asserts nothing.

    createdb -h 127.0.0.1 -U postgres prakerja_bench_kemnaker
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench_kemnaker \
        .venv/bin/python bench/kemnaker_submission.py [--people 5000] [--others 200000]

``--people`` offline registrations of Jawa Barat wait for Kemnaker (the most one import holds);
``--others`` applicants elsewhere make the duplicate checks (same phone, same name and birth date,
same family card) search a realistic table. Times ``offline_submission_send`` (gathering, row issues,
duplicates, items) and ``offline_submission_decide`` (5 % returned, one SMS queued per person).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--others", type=int, default=200_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it will be filled).")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)

    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from prakerja.models import Notification, User
    from prakerja.roles import Role
    from registration import kemnaker
    from registration.enums import Channel, KemnakerStatus
    from registration.models import Applicant, DisnakerStaff, District, OfflineSubmission

    print(f"load average before: {os.getloadavg()}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registration_offlinesubmissionitem, registration_offlinesubmission CASCADE")
    Applicant.objects.all().delete()
    User.objects.filter(email__endswith="@bench.invalid").delete()

    districts = list(District.objects.select_related("regency__province").order_by("code")[:400])
    jabar = [d for d in districts if d.code.startswith("32.")] or [
        District.objects.filter(code__startswith="32.").first()
    ]
    born = datetime.date(1990, 1, 1)

    def build(start: int, count: int, *, offline: bool) -> None:
        batch = 5000
        for offset in range(0, count, batch):
            n = min(batch, count - offset)
            users = User.objects.bulk_create(
                [
                    User(email=f"u{start + offset + i}@bench.invalid", password="!")  # noqa: S106 - unusable
                    for i in range(n)
                ]
            )
            rows = []
            for i, user in enumerate(users):
                serial = start + offset + i
                district = jabar[serial % len(jabar)] if offline else districts[serial % len(districts)]
                rows.append(
                    Applicant(
                        user=user,
                        nik=f"{serial:016d}",
                        kk_number=f"{9_000_000_000_000_000 + serial // 2:016d}",
                        full_name=f"Orang Uji {serial}",
                        birth_date=born + datetime.timedelta(days=serial % 9000),
                        district=district,
                        regency=district.regency,
                        province=district.regency.province,
                        phone=f"+62812{serial:09d}",
                        channel=Channel.OFFLINE if offline else Channel.ONLINE,
                        kemnaker_status=KemnakerStatus.WAITING if offline else "",
                        kemnaker_hold=offline,
                        profile_completed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
                    )
                )
            Applicant.objects.bulk_create(rows)

    started = time.perf_counter()
    build(1, args.others, offline=False)
    build(10_000_000, args.people, offline=True)
    print(f"built {args.others:,} other applicants and {args.people:,} offline registrations "
          f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registration_applicant")

    staff_user, _ = User.objects.get_or_create(email="disnaker@bench.invalid", defaults={"is_staff": True})
    staff_user.groups.add(Group.objects.get(name=Role.DISNAKER_STAFF))
    DisnakerStaff.objects.get_or_create(
        user=staff_user, defaults={"province_id": jabar[0].regency.province_id}
    )
    officer, _ = User.objects.get_or_create(email="kemnaker@bench.invalid", defaults={"is_staff": True})
    officer.groups.add(Group.objects.get(name=Role.KEMNAKER_OFFICER))
    staff_user = User.objects.get(pk=staff_user.pk)
    officer = User.objects.get(pk=officer.pk)

    started = time.perf_counter()
    submission = kemnaker.offline_submission_send(staff_user=staff_user)
    send_s = time.perf_counter() - started
    items = list(submission.items.order_by("pk").values_list("pk", flat=True))
    returns = dict.fromkeys(items[::20], ("documents", ""))
    sms_before = Notification.objects.count()
    started = time.perf_counter()
    kemnaker.offline_submission_decide(submission_id=submission.pk, officer=officer, returns=returns)
    decide_s = time.perf_counter() - started
    submission = OfflineSubmission.objects.get(pk=submission.pk)
    print(f"send:   {submission.person_count:,} people in {send_s:.2f} s "
          f"({submission.person_count / send_s:,.0f} people/s)")  # fmt: skip
    print(f"decide: {submission.approved_count:,} approved, {submission.returned_count:,} returned in "
          f"{decide_s:.2f} s; {Notification.objects.count() - sms_before:,} SMS queued")  # fmt: skip
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
