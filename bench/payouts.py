"""Payouts through the partner simulator over HTTP: wall time, payouts/s, duplicates, ledger check.

    createdb -h 127.0.0.1 -U postgres prakerja_bench_payouts
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench_payouts \\
        .venv/bin/python bench/payouts.py --payouts 200000 [--senders 4] [--chunk 500] [--old 300]

Migrates the database, seeds N people with an active e-wallet and one scheduled Rp600.000 incentive (in
SQL, then ANALYZE), accrues them (the real service), starts ``manage.py payout_simulator`` on a free
loopback port, prepares and approves one batch per 5,000 payouts (the real services). Then, timed:

- with ``--old N``: the per-payout path (``payout_send`` then ``payout_status_check``) on the first N;
- send: the rest in chunks of ``--chunk`` through the real ``payouts_send_chunk_task`` from
  ``--senders`` threads (each like a Celery worker: its own database connection, HTTP keep-alive):
  one claim statement, one bulk create at the partner, accepted in bulk;
- status: the simulator has settled them; ``payouts_status_check_chunk_task`` (what the sweeper runs;
  callbacks are switched off so this path is measured) asks in bulk and pays them: set-based ledger
  legs, entitlements paid;
- notifications: ``payouts_notify_task`` for "sent" and "paid" of every chunk (its own task in
  production), SMS and email rows in the outbox. Their delivery is not measured.

Prints the stage times, payouts/s, the simulator's receipts per idempotency key and duplicates,
``ledger_check`` and the load average. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
os.environ["PAYOUT_CALLBACK_BASE_URL"] = "http://127.0.0.1:9"
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
os.environ.setdefault("SMS_BACKEND", "prakerja.sms.LocmemSmsBackend")
# Tasks queued by the measured code (the outbox's send tasks) go to an in-process broker nobody reads:
# the outbox rows are written in the measured path, their delivery is the mail/SMS workers' job.
os.environ["REDIS_URL"] = ""
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
BATCH = 5000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _in_threads(ids: list, senders: int, work) -> float:
    from django.db import connection

    chunks = [ids[i::senders] for i in range(senders)]
    errors: dict[str, int] = {}

    def run(chunk):
        try:
            for payout_id in chunk:
                try:
                    work(payout_id)
                except Exception as exc:  # counted and printed: a benchmark goes on
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"  errors: {errors}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payouts", type=int, default=200_000)
    parser.add_argument("--senders", type=int, default=4, help="worker threads")
    parser.add_argument("--chunk", type=int, default=500, help="payouts per send task (PAYOUT_SEND_CHUNK)")
    parser.add_argument("--old", type=int, default=0, help="also run the per-payout path on this many")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database for the benchmark")

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from disbursement.enums import PayoutStatus
    from disbursement.gateway.services import payout_status_check
    from disbursement.gateway.tasks import payouts_status_check_chunk_task
    from disbursement.models import PaymentPartner, Payout, PayoutBatch
    from disbursement.selectors import ledger_check
    from disbursement.services import batch_approve, batch_prepare, entitlements_accrue_due
    from disbursement.services.partners import partner_secret_encrypt
    from disbursement.services.payouts import payout_send
    from disbursement.tasks import payouts_notify_task, payouts_send_chunk_task
    from prakerja.models import Notification, User
    from prakerja.roles import Role

    key_id, secret, callback_secret = "bench", "bench-secret", "bench-callback-secret"
    port = _free_port()
    state = Path(tempfile.mkdtemp()) / "sim.sqlite3"
    simulator = subprocess.Popen(
        [sys.executable, "manage.py", "payout_simulator", "--port", str(port), "--state", str(state),
         "--key-id", key_id, "--secret", secret, "--callback-secret", callback_secret,
         "--settle-seconds", "0", "--lost-callback-rate", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import requests

        for _ in range(600):
            try:
                if requests.get(f"http://127.0.0.1:{port}/_sim/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            sys.exit("the payout simulator did not start")
        run = int(time.time())
        partner = PaymentPartner.objects.create(
            name=f"Bench {run}", kind="ewallet", channels=["ovo"], base_url=f"http://127.0.0.1:{port}",
            key_id=key_id, secret_encrypted=partner_secret_encrypt(secret),
            callback_secret_encrypted=partner_secret_encrypt(callback_secret), batch_limit=BATCH,
        )  # fmt: skip
        group = Group.objects.get(name=Role.FINANCE_OFFICER)
        maker = User.objects.create(email=f"maker{run}@bench.test", is_staff=True)
        checker = User.objects.create(email=f"checker{run}@bench.test", is_staff=True)
        third = User.objects.create(email=f"third{run}@bench.test", is_staff=True)
        for officer in (maker, checker, third):
            officer.groups.add(group)

        started = time.perf_counter()
        today = timezone.localdate()
        # Seeded in SQL (the ORM's bulk_create took minutes at 200,000 on the shared machine); the rows are
        # what the factories make: a user, an active OVO account, one scheduled Rp600.000 incentive.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO prakerja_user (password, is_superuser, first_name, last_name, is_staff, is_active, "
                "date_joined, email, language) SELECT '!', false, '', '', false, true, now(), "
                "'bench' || %s || '-' || n || '@bench.test', 'id' FROM generate_series(1, %s) n",
                [run, args.payouts],
            )
            cursor.execute(
                "INSERT INTO disbursement_payoutaccount (channel, account_number, holder_name, status, created_at, "
                "review_note, owner_id, partner_id) SELECT 'ovo', '08' || lpad(u.id::text, 10, '0') || '1', "
                "'PENERIMA', 'active', now(), '', u.id, %s FROM prakerja_user u WHERE u.email LIKE %s",
                [partner.pk, f"bench{run}-%"],
            )
            cursor.execute(
                "INSERT INTO disbursement_entitlement (kind, number, amount, due_on, status, status_reason, "
                "reference, idempotency_key, created_at, updated_at, owner_id) "
                "SELECT 'training_incentive', 1, 600000, %s, 'scheduled', '', 'bench', "
                "'bench:' || %s || ':' || u.id || ':1', now(), now(), u.id "
                "FROM prakerja_user u WHERE u.email LIKE %s",
                [today, run, f"bench{run}-%"],
            )
            # Fresh statistics, as autovacuum would have them for tables this size: without them the
            # planner probes the batch query's candidates one owner at a time (minutes at 10,000).
            cursor.execute("ANALYZE prakerja_user, disbursement_payoutaccount, disbursement_entitlement")
        stage = {"seed": time.perf_counter() - started}
        mark = time.perf_counter()
        entitlements_accrue_due(today=today)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE disbursement_entitlement, disbursement_ledgeraccount")
        stage["accrue"] = time.perf_counter() - mark
        stage["prepare"] = stage["approve"] = 0.0
        batches = []
        while True:
            mark = time.perf_counter()
            batch = batch_prepare(partner=partner, actor=maker)
            stage["prepare"] += time.perf_counter() - mark
            if batch is None:
                break
            mark = time.perf_counter()
            batch = batch_approve(batch_id=batch.pk, officer=checker, send=False)
            if batch.status == "prepared":  # above PAYOUT_THIRD_APPROVAL_ABOVE: a second approver
                batch_approve(batch_id=batch.pk, officer=third, send=False)
            stage["approve"] += time.perf_counter() - mark
            batches.append(batch.pk)
        ids = list(Payout.objects.filter(batch_id__in=batches).order_by("id").values_list("id", flat=True))

        setup_seconds = time.perf_counter() - started
        print(f"setup: {len(ids)} payouts in {len(batches)} batches, {setup_seconds:.1f} s ("
              + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stage.items()) + ")")  # fmt: skip
        old_ids, ids = ids[: args.old], ids[args.old :]
        old_total = None
        if old_ids:
            # The per-payout path (payout_send_task / payout_status_check_task bodies) on the first
            # --old payouts, in the same run for a side-by-side rate.
            old_send = _in_threads(old_ids, args.senders, lambda pk: payout_send(payout_id=pk))
            old_check = _in_threads(old_ids, args.senders, lambda pk: payout_status_check(payout_id=pk))
            old_total = old_send + old_check
            print(f"OLD per payout: {len(old_ids)} payouts, send {old_send:.1f} s ({len(old_ids) / old_send:.0f}/s), "
                  f"status {old_check:.1f} s ({len(old_ids) / old_check:.0f}/s), "
                  f"approval to paid {len(old_ids) / old_total:.0f} payouts/s")  # fmt: skip
        print(f"load average before the bulk path: {os.getloadavg()[0]:.1f}")
        chunks = [ids[i : i + args.chunk] for i in range(0, len(ids), args.chunk)]
        send_seconds = _in_threads(chunks, args.senders, lambda chunk: payouts_send_chunk_task(chunk))
        print(f"send:  {len(ids)} payouts in {send_seconds:.1f} s = {len(ids) / send_seconds:.0f} payouts/s "
              f"({args.senders} senders, chunks of {args.chunk}: bulk create, claim, accepted)")  # fmt: skip
        check_seconds = _in_threads(
            chunks, args.senders, lambda chunk: payouts_status_check_chunk_task(chunk)
        )
        print(f"status: {len(ids)} payouts in {check_seconds:.1f} s = {len(ids) / check_seconds:.0f}/s "
              "(bulk inquiry, paid: ledger legs, entitlements)")  # fmt: skip
        total = send_seconds + check_seconds
        # What payouts_notify_task does for every chunk (a worker of its own in production): the SMS and
        # email for "sent" and "paid", rendered once per language and queued in bulk in the outbox.
        notify_seconds = _in_threads(
            [(chunk, event) for event in ("sent", "paid") for chunk in chunks],
            args.senders,
            lambda job: payouts_notify_task(job[0], job[1]),
        )
        print(f"notifications: {2 * len(ids)} payout messages (SMS and email each) in {notify_seconds:.1f} s "
              f"= {len(ids) / notify_seconds:.0f} payouts/s")  # fmt: skip
        paid = Payout.objects.filter(pk__in=ids, status=PayoutStatus.PAID).count() if len(ids) < 50_000 else (
            Payout.objects.filter(batch_id__in=batches, status=PayoutStatus.PAID).count() - len(old_ids)
        )  # fmt: skip
        stats = requests.get(f"http://127.0.0.1:{port}/_sim/stats", timeout=60).json()
        print(f"total: {total:.1f} s from approval to paid = {len(ids) / total:.0f} payouts/s; paid {paid}/{len(ids)}"
              + (f"; old path {len(old_ids) / old_total:.0f}/s, {len(ids) / total / (len(old_ids) / old_total):.1f}x"
                 if old_total else ""))  # fmt: skip
        print(
            f"approval to paid and told: {total + notify_seconds:.1f} s = {len(ids) / (total + notify_seconds):.0f} payouts/s"
        )
        print(f"wall, setup included: {time.perf_counter() - started:.1f} s")
        print(f"simulator: {stats['disbursements']} disbursements, {stats['disbursement_keys']} keys, "
              f"{stats['receipts']} receipts, most receipts for one key {stats['max_receipts_per_key']}, "
              f"duplicates {stats['disbursements'] - stats['disbursement_keys']}")  # fmt: skip
        done = PayoutBatch.objects.filter(pk__in=batches, status="done").count()
        print(f"batches done: {done}/{len(batches)}; notifications queued: {Notification.objects.count()}")
        check_started = time.perf_counter()
        result = ledger_check()
        print(
            f"ledger_check: {'ok' if result.ok else 'FAILED'} ({time.perf_counter() - check_started:.1f} s)"
        )
        print(f"load average: {os.getloadavg()[0]:.1f}; database {settings.DATABASES['default']['NAME']}")
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)


if __name__ == "__main__":
    main()
