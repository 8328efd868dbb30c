"""Ledger bulk benchmark (PostgreSQL): open 800,000 training balances, credit them, forfeit them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja .venv/bin/python bench/ledger_bulk.py
    options: --accounts 800000 --debits 2000 --database prakerja_ledger_bench

It (re)creates its own database (``--database``) on the server of DATABASE_URL,
migrates it, and prints for each step the wall time, the CPU seconds of Python and
of its PostgreSQL backend (the cost on a shared machine), and the load average. It asserts
nothing about speed. Results are also written to bench/results/.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def _recreate_database(url: str, name: str) -> str:
    import psycopg2

    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/ledger_bulk.py needs DATABASE_URL=postgres://...")
    admin = psycopg2.connect(urlunparse(parsed._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunparse(parsed._replace(path=f"/{name}"))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a local process (the PostgreSQL backend), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=800_000)
    parser.add_argument(
        "--debits", type=int, default=2_000, help="single debits (purchases) timed one by one"
    )
    parser.add_argument("--database", default="prakerja_ledger_bench")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _recreate_database(os.environ.get("DATABASE_URL", ""), args.database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from disbursement.enums import AccountKind
    from disbursement.models import LedgerAccount
    from disbursement.selectors import ledger_check
    from disbursement.services import (
        ledger_accounts_open_bulk,
        ledger_credit_bulk,
        ledger_debit,
        ledger_forfeit_bulk,
    )
    from prakerja.models import User

    results: list[dict] = []

    def check():
        result = ledger_check()
        print(
            f"    {result.accounts_checked:,} accounts, {result.movements_checked:,} movements, "
            f"{result.balance_mismatch_count} + {result.unbalanced_movement_count} mismatches, "
            f"entries sum {result.entries_sum}",
            flush=True,
        )
        return result.ok

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def step(name: str, func):
        # Wall time, and the CPU time of this process and of its PostgreSQL backend: on a shared
        # machine the CPU seconds say what the step costs, the wall time what it took today.
        load_before = _load()
        started, cpu, db_cpu = time.perf_counter(), time.process_time(), _cpu_seconds(backend)
        value = func()
        seconds = time.perf_counter() - started
        cpu, db_cpu = time.process_time() - cpu, _cpu_seconds(backend) - db_cpu
        results.append(
            {
                "step": name,
                "seconds": round(seconds, 2),
                "python_cpu": round(cpu, 2),
                "postgres_cpu": round(db_cpu, 2),
                "load_before": load_before,
                "load_after": _load(),
            }
        )
        print(
            f"{name:<46} {seconds:7.2f} s  (cpu: python {cpu:5.2f} s, postgres {db_cpu:6.2f} s)  "
            f"load {load_before} -> {_load()}  {value if value is not None else ''}",
            flush=True,
        )
        return value

    print(f"cpus: {os.cpu_count()}, accounts: {args.accounts:,}, database: {args.database}")
    call_command("migrate", verbosity=0, stdout=io.StringIO())

    def users_copy():
        buffer = io.StringIO()
        for i in range(args.accounts):
            buffer.write(f"peserta{i}@bench.test\t!\tf\tf\tt\t2026-11-01 00:00:00+07\tid\t\t\n")
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_from(
                buffer,
                User._meta.db_table,
                columns=[
                    "email",
                    "password",
                    "is_superuser",
                    "is_staff",
                    "is_active",
                    "date_joined",
                    "language",
                    "first_name",
                    "last_name",
                ],
            )
            cursor.execute(f"ANALYZE {User._meta.db_table}")
        return f"{args.accounts:,} users (setup, COPY)"

    step("setup: users", users_copy)
    bench_users = User.objects.filter(email__endswith="@bench.test")
    step(
        "open accounts (ledger_accounts_open_bulk)",
        lambda: f"{ledger_accounts_open_bulk(owners=bench_users):,} opened",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {LedgerAccount._meta.db_table}")
    balances = LedgerAccount.objects.filter(kind=AccountKind.TRAINING_BALANCE)

    def credit():
        return ledger_credit_bulk(
            accounts=balances, amount=1_000_000, key_prefix="bench.wave:1:credit", reference="bench.wave:1"
        )

    step("bulk credit Rp1.000.000 (ledger_credit_bulk)", credit)
    step("bulk credit again (idempotent, moves nothing)", credit)

    def debits():
        ids = list(balances.order_by("pk").values_list("pk", flat=True)[: args.debits])
        for account in LedgerAccount.objects.filter(pk__in=ids):
            ledger_debit(
                account=account,
                amount=650_000,
                idempotency_key=f"bench.purchase:{account.pk}",
                reference=f"bench.purchase:{account.pk}",
            )
        return f"{len(ids):,} purchases, one transaction each"

    step("single debits (ledger_debit)", debits)
    step("ledger_check", check)

    def forfeit():
        return ledger_forfeit_bulk(
            accounts=balances, key_prefix="bench.wave:1:deadline", reference="bench.wave:1"
        )

    step("bulk forfeit (ledger_forfeit_bulk)", forfeit)
    step("bulk forfeit again (idempotent)", forfeit)
    result = step("ledger_check", check)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('disbursement_ledgerentry')), "
            "pg_size_pretty(pg_total_relation_size('disbursement_ledgermovement'))"
        )
        entry_size, movement_size = cursor.fetchone()
    print(f"ledger OK: {result}; entries table {entry_size}, movements table {movement_size}")

    out_dir = BASE_DIR / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"ledger_bulk-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps({"accounts": args.accounts, "cpus": os.cpu_count(), "steps": results}, indent=2)
    )
    print(f"written to {out.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
