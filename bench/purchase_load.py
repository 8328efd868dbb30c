"""Purchases per second through the platform API: PostgreSQL, gunicorn (2 workers), concurrent platforms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench_purchase \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/purchase_load.py [--purchases 600] [--clients 20]

Drops and recreates the database named in DATABASE_URL, migrates it, seeds a
small catalog (200 trainings on the eight platforms) and one participant with a
Rp1.000.000 balance per purchase to make (a person can ask for one purchase code
a minute), starts gunicorn with 2 sync workers on a free loopback port and lets
``--clients`` threads play platforms: each purchase is two signed API calls,
``POST /purchases`` (card number + listing; the SMS code is queued) and
``POST /purchases/{id}/confirm`` (the code; the balance is debited under the
participant's lock and the voucher issued).

With REDIS_URL the web processes only queue the SMS (as in production) and no
worker sends it, so the code waits in the outbox and the load generator reads it
from there (one indexed query per purchase, counted in the server's database
load). Two scenarios: purchases spread over the eight platforms, and all on one
platform (every purchase then credits the same platform-payable ledger account,
whose row lock serialises them). Prints numbers; asserts nothing. The load
generator shares the machine's two cores with gunicorn and PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
PYTHON = sys.executable
CODE = re.compile(r"\b(\d{6})\b")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    import dj_database_url
    import psycopg2

    db = dj_database_url.parse(url)
    admin = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()


def seed(participants: int) -> tuple[list[dict], dict[str, list[int]]]:
    """Participants with a balance (user id, card number) and each platform's listing ids and credentials."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from cohorts.models import Participant, Wave
    from cohorts.services import card_number_for
    from disbursement.enums import AccountKind
    from disbursement.models import LedgerAccount
    from disbursement.services import ledger_accounts_open_bulk, ledger_credit_bulk
    from marketplace.demo import catalog_build
    from marketplace.models import Platform
    from marketplace.selectors import listings_visible
    from marketplace.services import platform_credential_issue
    from prakerja.models import User
    from registration.models import Applicant, District

    catalog_build(trainings=200)
    now = timezone.now()
    district = District.objects.select_related("regency").get(code="32.75.01")
    unusable = make_password(None)  # participants never sign in here: platforms buy for them
    users = [User(email=f"peserta{n}@bench.prakerja.test", password=unusable) for n in range(participants)]
    User.objects.bulk_create(users, batch_size=2000)
    users = list(User.objects.filter(email__endswith="@bench.prakerja.test").order_by("id"))
    applicants = []
    for n, user in enumerate(users):
        birth = datetime.date(1980, 1, 1) + datetime.timedelta(days=n // 8000)
        applicants.append(
            Applicant(
                user=user,
                nik=f"327501{birth:%d%m%y}{1000 + n % 8000:04d}",
                kk_number=f"3275010101{n:06d}",
                full_name=f"Peserta Uji {n}",
                birth_place="Bekasi",
                birth_date=birth,
                gender="M",
                address="Jl. Merdeka No. 1",
                province_id=district.regency.province_id,
                regency=district.regency,
                district=district,
                education="sma",
                employment_status="laid_off",
                declarations_version="2026-01",
                declarations_at=now,
                consent_version="2026-01",
                consent_at=now,
                profile_completed_at=now,
                phone=f"+62815{n:08d}",
                phone_verified_at=now,
                civil_status="verified",
                civil_checked_at=now,
            )
        )
    Applicant.objects.bulk_create(applicants, batch_size=2000)
    wave = Wave.objects.create(
        number=1,
        name="Gelombang Uji Beban",
        opens_at=now - datetime.timedelta(days=10),
        closes_at=now - datetime.timedelta(days=3),
        total_quota=participants,
        status="announced",
    )
    owners = User.objects.filter(email__endswith="@bench.prakerja.test")
    ledger_accounts_open_bulk(owners=owners)
    accounts = dict(
        LedgerAccount.objects.filter(kind=AccountKind.TRAINING_BALANCE, owner__in=owners).values_list(
            "owner_id", "id"
        )
    )
    by_user = dict(Applicant.objects.filter(user__in=owners).values_list("user_id", "id"))
    Participant.objects.bulk_create(
        [
            Participant(
                applicant_id=by_user[user.pk],
                wave=wave,
                card_number=card_number_for(wave_number=1, ordinal=n + 1),
                balance_account_id=accounts[user.pk],
                purchase_deadline=now + datetime.timedelta(days=30),
            )
            for n, user in enumerate(users)
        ],
        batch_size=2000,
    )
    ledger_credit_bulk(
        accounts=LedgerAccount.objects.filter(pk__in=accounts.values()),
        amount=1_000_000,
        key_prefix="bench:balance",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    people = [
        {"user_id": user_id, "card": card}
        for user_id, card in Participant.objects.order_by("id").values_list(
            "applicant__user_id", "card_number"
        )
    ]
    platforms = {}
    for platform in Platform.objects.order_by("slug"):
        issued = platform_credential_issue(platform_id=platform.pk, actor=None)
        listing_ids = list(
            listings_visible().filter(platform=platform, price__lte=1_000_000).values_list("pk", flat=True)
        )
        platforms[platform.slug] = {
            "key_id": issued.credential.key_id,
            "secret": issued.secret,
            "listings": listing_ids,
        }
    return people, platforms


def sms_code(user_id: int) -> str:
    """The purchase code waiting in the outbox for ``user_id`` (no worker sends it in this benchmark)."""
    from prakerja.models import Notification

    for _attempt in range(50):
        body = (
            Notification.objects.filter(user_id=user_id, channel="sms", sensitive=True)
            .order_by("-id")
            .values_list("body", flat=True)
            .first()
        )
        if body:
            return CODE.search(body).group(1)
        time.sleep(0.05)
    raise RuntimeError(f"no code for user {user_id}")


def run_scenario(port: int, people: list[dict], platforms: dict, *, slugs: list[str], clients: int) -> dict:
    from django.db import connection

    from marketplace.simulator import ApiCallFailed, PlatformClient

    queue = list(people)
    lock = threading.Lock()
    starts, confirms, totals = [], [], []
    errors: dict[str, int] = {}
    done = 0
    rng = random.Random(11)

    def worker():
        nonlocal done
        sessions = {}
        while True:
            with lock:
                if not queue:
                    break
                person = queue.pop()
                slug = rng.choice(slugs)
                listing_id = rng.choice(platforms[slug]["listings"])
            client = sessions.get(slug)
            if client is None:
                client = PlatformClient(
                    base_url=f"http://127.0.0.1:{port}",
                    key_id=platforms[slug]["key_id"],
                    secret=platforms[slug]["secret"],
                )
                sessions[slug] = client
            began = time.perf_counter()
            try:
                purchase = client.purchase_start(card_number=person["card"], listing_id=listing_id)
                middle = time.perf_counter()
                code = sms_code(person["user_id"])
                before_confirm = time.perf_counter()
                paid = client.purchase_confirm(purchase_id=purchase["id"], code=code)
                ended = time.perf_counter()
                assert paid["voucher"]["status"] == "issued"
            except (ApiCallFailed, OSError, AssertionError, RuntimeError) as exc:
                key = getattr(exc, "code", "") or exc.__class__.__name__
                with lock:
                    errors[key] = errors.get(key, 0) + 1
                continue
            with lock:
                starts.append(middle - began)
                confirms.append(ended - before_confirm)
                totals.append(ended - began)
                done += 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else 0.0

    return {
        "purchases": done,
        "elapsed": elapsed,
        "per_second": done / elapsed if elapsed else 0.0,
        "requests_per_second": 2 * done / elapsed if elapsed else 0.0,
        "start_p50": pct(starts, 0.5),
        "start_p95": pct(starts, 0.95),
        "confirm_p50": pct(confirms, 0.5),
        "confirm_p95": pct(confirms, 0.95),
        "flow_p95": pct(totals, 0.95),
        "flow_mean": statistics.fmean(totals) * 1000 if totals else 0.0,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--purchases", type=int, default=600, help="purchases per scenario")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (it is dropped and recreated).")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the web processes queue the SMS there, as in production.")
    queue = f"bench-{uuid.uuid4().hex[:8]}"  # no worker listens: the codes stay in the outbox
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    recreate_database(url)
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    warmup = min(50, args.purchases)
    total = 2 * args.purchases + warmup
    print(f"seeding {total} participants and the catalog ...", flush=True)
    people, platforms = seed(total)

    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "prakerja.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=BASE_DIR, env=env,
    )  # fmt: skip
    try:
        import requests

        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.3)
        slugs = sorted(platforms)
        print(
            f"\ngunicorn {args.workers} workers, {args.clients} clients, {args.purchases} purchases per scenario "
            f"(2 signed API calls each), PostgreSQL, SMS queued to Redis"
        )
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        run_scenario(port, people[:warmup], platforms, slugs=slugs, clients=min(args.clients, warmup))
        scenarios = {
            "8 platforms": (people[warmup : warmup + args.purchases], slugs),
            "1 platform (one payable account)": (people[warmup + args.purchases :], [slugs[0]]),
        }
        header = (
            f"{'scenario':<34} {'buys':>5} {'buys/s':>7} {'req/s':>6} {'start p50':>9} {'p95':>6} "
            f"{'confirm p50':>11} {'p95':>6} {'flow p95':>8}  errors"
        )
        print(header)
        for name, (group, chosen) in scenarios.items():
            r = run_scenario(port, group, platforms, slugs=chosen, clients=args.clients)
            print(
                f"{name:<34} {r['purchases']:>5} {r['per_second']:>7.1f} {r['requests_per_second']:>6.1f} "
                f"{r['start_p50']:>7.0f}ms {r['start_p95']:>4.0f}ms {r['confirm_p50']:>9.0f}ms "
                f"{r['confirm_p95']:>4.0f}ms {r['flow_p95']:>6.0f}ms  {r['errors'] or 0}",
                flush=True,
            )
        print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        from django.db import connection

        from disbursement.selectors import ledger_check
        from marketplace.models import Voucher

        check = ledger_check()
        print(f"vouchers issued: {Voucher.objects.count()}; ledger check ok: {check.ok}")
        connection.close()
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue)


if __name__ == "__main__":
    main()
