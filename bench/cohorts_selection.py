"""Benchmark: select 800,000 of 2,000,000 applications across 38 provinces, then announce.

PostgreSQL only. Prints the time of each step and the total; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench \
        .venv/bin/python bench/cohorts_selection.py [--applications 2000000] [--select 800000]

The database named in DATABASE_URL is emptied and rebuilt (it is created if missing).
Generated applicants are synthetic (bulk SQL, not valid NIKs): the selection does
not look at NIK structure, only at the eligibility flags, province, KK and priority.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--applications", type=int, default=2_000_000)
    parser.add_argument("--select", type=int, default=800_000)
    parser.add_argument("--priority-share", type=float, default=0.05, help="share of priority applicants")
    parser.add_argument("--keep", action="store_true", help="reuse the generated pool if it exists")
    parser.add_argument(
        "--high-water",
        type=int,
        default=200_000,
        help="queued outbox messages at which the notification job waits (COHORTS_NOTIFY_OUTBOX_HIGH_WATER)",
    )
    parser.add_argument("--skip-dry-run", action="store_true", help="go straight to the committed selection")
    parser.add_argument(
        "--skip-notifications",
        action="store_true",
        help="stop after the announcement (no outbox, no draw file)",
    )
    parser.add_argument(
        "--skip-announcement",
        action="store_true",
        help="stop after the committed selection (no announcement, notifications or ledger_check)",
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it will be emptied).")
    _ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    timings: dict[str, float] = {}

    def wal_position() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            return cursor.fetchone()[0]

    def wal_megabytes(since: str) -> float:
        # The whole server's WAL: other databases on the same server count too.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [since])
            return float(cursor.fetchone()[0]) / 1e6

    def step(name):
        class Timer:
            def __enter__(self):
                self.wal = wal_position()
                self.start = time.perf_counter()
                print(f"-> {name} ...", flush=True)

            def __exit__(self, *exc):
                timings[name] = time.perf_counter() - self.start
                print(
                    f"   {name}: {timings[name]:.1f} s (load average {os.getloadavg()[0]:.1f}, "
                    f"WAL {wal_megabytes(self.wal):,.0f} MB)",
                    flush=True,
                )

        return Timer()

    print(f"load average before: {os.getloadavg()}")
    with step("migrate"):
        call_command("migrate", verbosity=0)

    from cohorts.enums import RunKind, WaveStatus
    from cohorts.models import Application, Wave
    from cohorts.services import programme_get, selection_run_execute, selection_run_request

    existing = Application.objects.count()
    if not (args.keep and existing == args.applications):
        with step(f"generate {args.applications:,} applicants and applications"):
            _generate(connection, args.applications, args.priority_share, args.select)
    wave = Wave.objects.get(number=1)
    programme_get()

    if not args.skip_dry_run:
        with step("dry run (counts per province and priority group)"):
            run = selection_run_request(wave=wave, kind=RunKind.DRY_RUN, seed="bench-seed")
            selection_run_execute(run_id=run.pk)
        run.refresh_from_db()
        print(f"   pool {run.result['pool']:,}, would select {run.result['selected']:,}")

    with step("selection (eligibility, snapshot, draw, commit)"):
        run = selection_run_request(wave=wave, kind=RunKind.SELECTION, seed="bench-seed")
        selection_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.error
    print(f"   selected {run.result['selected']:,} of {run.result['pool']:,}")
    print(f"   stages (s): {run.result['stage_seconds']}")
    print(f"   fingerprint {run.fingerprint}")
    if args.skip_announcement:
        print(f"load average after: {os.getloadavg()}")
        return

    from unittest import mock

    # Without a broker Celery runs each queued job inline when its request commits: the
    # announcement at once, and the notification job it queues inside the announcement.
    # Hold both back, so that each is run and timed here as its own step.
    from cohorts.tasks import draw_file_build_task, selection_run_task

    with (
        step("announcement (ledger accounts, participants with card numbers, balance credits)"),
        mock.patch.object(selection_run_task, "delay"),
        mock.patch.object(draw_file_build_task, "delay"),
    ):
        run = selection_run_request(wave=wave, kind=RunKind.ANNOUNCEMENT)
        selection_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.error
    print(f"   {run.result}")

    from django.test import override_settings

    from cohorts.models import SelectionRun

    # The notification job writes the outbox a slice at a time while it holds fewer than
    # COHORTS_NOTIFY_OUTBOX_HIGH_WATER queued messages, then waits for the sweeper to send some.
    # First as in production (it stops at the high-water mark), then the rest at once, as if the
    # outbox had drained: together they are the cost of every row, which the old job paid at once.
    if not args.skip_notifications:
        notify = SelectionRun.objects.get(wave=wave, kind=RunKind.NOTIFY)
        with (
            step(f"notifications: first slices, until {args.high_water:,} messages are queued"),
            override_settings(COHORTS_NOTIFY_OUTBOX_HIGH_WATER=args.high_water),
        ):
            selection_run_execute(run_id=notify.pk)
        notify.refresh_from_db()
        print(f"   {notify.status}: {notify.result}")
        with (
            step("notifications: the rest (all at once, as if the outbox had drained)"),
            override_settings(COHORTS_NOTIFY_OUTBOX_HIGH_WATER=0),
        ):
            selection_run_execute(run_id=notify.pk)
        notify.refresh_from_db()
        assert notify.status == "done", notify.error
        print(f"   {notify.result}")

        from cohorts.draw import draw_file_build

        with step("public draw file (one line per application, gzip)"):
            built = draw_file_build(wave_id=wave.pk)
        print(f"   {built.lines:,} lines, sha256 {built.sha256[:16]}...")

    with step("ledger_check"):
        call_command("ledger_check")
    wave.refresh_from_db()
    assert wave.status == WaveStatus.ANNOUNCED
    print()
    print(f"load average after: {os.getloadavg()}")
    total = sum(
        v
        for k, v in timings.items()
        if k != "migrate" and not k.startswith(("generate", "notifications", "public draw"))
    )
    print("Summary (seconds):")
    for name, seconds in timings.items():
        print(f"  {seconds:8.1f}  {name}")
    print(
        f"  {total:8.1f}  total of dry run + selection + announcement + ledger_check (without notifications)"
    )


def _ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname="postgres",
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        host=cfg["HOST"],
        port=cfg["PORT"] or 5432,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    conn.close()


def _generate(connection, n: int, priority_share: float, select: int) -> None:
    """Users, applicants (verified NIK and KYC), one open-then-closed wave with 38 province quotas."""
    from cohorts.models import Application, Participant, ProvinceQuota, SelectionRun, Wave
    from kyc.models import KycCase
    from prakerja.models import Notification, User
    from registration.models import Applicant, District

    tables = {
        "user": User._meta.db_table,
        "applicant": Applicant._meta.db_table,
        "kyc": KycCase._meta.db_table,
        "application": Application._meta.db_table,
        "district": District._meta.db_table,
    }
    have = Applicant.objects.filter(user__email__startswith="bench").count()
    with connection.cursor() as cur:
        if have == n:
            # Keep the (slow to make) users and applicants; rebuild everything after them.
            cur.execute(
                "TRUNCATE {} CASCADE".format(
                    ", ".join(
                        m._meta.db_table
                        for m in (
                            Notification,
                            Participant,
                            SelectionRun,
                            Application,
                            ProvinceQuota,
                            Wave,
                            KycCase,
                        )
                    )
                )
            )
            _reset_ledger(cur)
    if have != n:
        _generate_people(connection, n, priority_share, tables)
    _generate_pool(connection, n, select, tables)


def _reset_ledger(cur) -> None:
    """The bench database's ledger starts empty (append-only rows can only be truncated)."""
    from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement

    cur.execute(
        "TRUNCATE {} CASCADE".format(
            ", ".join(m._meta.db_table for m in (LedgerEntry, LedgerMovement, LedgerAccount))
        )
    )


def _generate_people(connection, n, priority_share, tables):
    from cohorts.models import Application, Participant, ProvinceQuota, SelectionRun, Wave
    from kyc.models import KycCase
    from prakerja.models import Notification
    from registration.models import Applicant

    with connection.cursor() as cur:
        # Start from an empty pool (cascade through everything that refers to it).
        cur.execute(
            "TRUNCATE {} CASCADE".format(
                ", ".join(
                    m._meta.db_table
                    for m in (
                        Notification,
                        Participant,
                        SelectionRun,
                        Application,
                        ProvinceQuota,
                        Wave,
                        KycCase,
                        Applicant,
                    )
                )
            )
        )
        _reset_ledger(cur)
        cur.execute(f"DELETE FROM {tables['user']} WHERE email LIKE 'bench%%'")
        cur.execute("SET synchronous_commit = off")
        cur.execute(
            f"""
            INSERT INTO {tables["user"]} (password, last_login, is_superuser, first_name, last_name, is_staff,
                is_active, date_joined, email, language)
            SELECT '!', NULL, false, '', '', false, true, now(), 'bench' || i || '@bench.prakerja.test',
                   CASE WHEN mod(i, 10) = 0 THEN 'en' ELSE 'id' END
            FROM generate_series(1, %s) AS i
            """,
            [n],
        )
        cur.execute(
            f"""
            WITH d AS (
                SELECT array_agg(code ORDER BY code) AS codes, array_agg(regency_id ORDER BY code) AS regencies,
                       COUNT(*) AS total
                FROM {tables["district"]}
            ),
            u AS (
                SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS i FROM {tables["user"]} WHERE email LIKE 'bench%%'
            ),
            picked AS (
                SELECT u.id, u.i, d.codes[mod(u.i, d.total) + 1] AS code, d.regencies[mod(u.i, d.total) + 1] AS regency_id
                FROM u CROSS JOIN d
            )
            INSERT INTO {tables["applicant"]} (user_id, created_at, updated_at, channel, nik, kk_number, full_name,
                birth_place, birth_date, gender, address, province_id, regency_id, district_id, education,
                employment_status, declarations_version, consent_version, phone, civil_status, civil_mismatch_fields,
                is_excluded, exclusion_reason, is_priority, priority_source, profile_completed_at, phone_verified_at,
                civil_checked_at, declarations_at, consent_at)
            SELECT p.id, now(), now(), 'online', LPAD(p.i::text, 16, '0'), LPAD((p.i / 2)::text, 16, '9'),
                   'Peserta ' || p.i, 'Kota', DATE '1990-01-01', CASE WHEN mod(p.i, 2) = 0 THEN 'F' ELSE 'M' END, '-',
                   LEFT(p.code, 2), p.regency_id, p.code, 'sma', 'laid_off', '2026-01', '2026-01',
                   '+62812' || LPAD(p.i::text, 8, '0'), 'verified', '[]'::jsonb,
                   (mod(p.i, 97) = 0), CASE WHEN mod(p.i, 97) = 0 THEN 'ASN' ELSE '' END,
                   mod(p.i, 1000) < %s, '', now(), now(), now(), now(), now()
            FROM picked p
            """,
            [int(priority_share * 1000)],
        )

    print("   users and applicants created", flush=True)


def _generate_pool(connection, n, select, tables):
    from cohorts.enums import WaveStatus
    from cohorts.models import Application, ProvinceQuota, Wave

    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {tables["kyc"]} (applicant_id, status, status_changed_at, attempts_used, extra_attempts,
                    review_reason, decided_at, reject_reason, decision_note, created_at)
                SELECT id, CASE WHEN mod(id, 50) = 0 THEN 'review' ELSE 'verified' END, now(), 1, 0, '', now(),
                       '', '', now()
                FROM {tables["applicant"]}"""
        )
    # The flags above are what the lists say: put those NIKs on real lists, because the
    # selection re-applies the lists (set-based) before drawing.
    from registration.models import ScreeningEntry, ScreeningList

    ScreeningList.objects.filter(name__startswith="Bench").delete()
    for kind, category, flag in (
        ("priority", "laid_off", "is_priority"),
        ("exclusion", "asn", "is_excluded"),
    ):
        screening_list = ScreeningList.objects.create(
            kind=kind,
            category=category,
            name=f"Bench {kind}",
            source="bench",
            reference_date="2026-01-01",
            current_batch=1,
        )
        with connection.cursor() as cur:
            cur.execute(
                f"""INSERT INTO {ScreeningEntry._meta.db_table} (screening_list_id, batch, nik)
                    SELECT %s, 1, nik FROM {tables["applicant"]} WHERE {flag}""",
                [screening_list.pk],
            )
    wave = Wave.objects.create(
        number=1,
        name="Gelombang 1",
        opens_at="2026-01-01T00:00:00+07:00",
        closes_at="2026-01-08T00:00:00+07:00",
        total_quota=select,
        status=WaveStatus.CLOSED,
    )
    with connection.cursor() as cur:
        # Quotas proportional to each province's pool, adding up to a little more than the total,
        # so both the province cuts and the total cut do work.
        cur.execute(
            f"""
            INSERT INTO {ProvinceQuota._meta.db_table} (wave_id, province_id, quota)
            SELECT %s, province_id, CEIL(COUNT(*) * %s::numeric / %s * 1.02)
            FROM {tables["applicant"]} GROUP BY province_id
            """,
            [wave.pk, select, n],
        )
        cur.execute(
            f"""INSERT INTO {tables["application"]} (wave_id, applicant_id, created_at, province_id, kk_number,
                    is_priority, status, ineligible_reason, draw_rank)
                SELECT %s, id, now(), province_id, kk_number, is_priority, 'pending', '', NULL
                FROM {tables["applicant"]}""",
            [wave.pk],
        )
        cur.execute("ANALYZE")
    print(f"   {Application.objects.count():,} applications, {ProvinceQuota.objects.count()} province quotas")


if __name__ == "__main__":
    main()
