"""Benchmark: profile submissions and dashboard views against gunicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench_reg \
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/registration_bench.py \
        [--baseline /tmp/prakerja-before --port 8142]

Creates (drops first) the database named in DATABASE_URL, migrates it, makes
signed-in test accounts (their sessions with the clocks a real sign-in starts),
starts ``gunicorn --workers 2`` (``--workers N``, or ``--gunicorn-config FILE``
for both servers) on a loopback port and drives it with 50 concurrent clients
(threads). Prints throughput and
p50/p95 latency; asserts nothing. With ``--baseline DIR`` (a copy of the code
before a change, e.g. ``git archive <commit> | tar -x -C DIR``) it also copies
the database to ``<name>_old`` and starts a second gunicorn from DIR on it, and
runs the profile submissions against the old code and then the new one, side by
side in the same run. The load generator runs on the same machine
as gunicorn and PostgreSQL, so the numbers are a floor, not a capacity plan.
Every request goes to 127.0.0.1 and the run is bounded in count.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(url: str, users: int) -> list[tuple[str, str]]:
    """Fresh database, migrated, with ``users`` verified accounts; returns (email, session key)."""
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
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, check=True)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.utils.module_loading import import_string

    from prakerja.models import User

    password = make_password(None)  # unusable: the benchmark signs in through sessions
    User.objects.bulk_create(
        [User(email=f"bench{n}@example.id", password=password) for n in range(users)], batch_size=1000
    )
    accounts = list(User.objects.order_by("id"))
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in accounts], batch_size=1000
    )
    store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
    sessions = []
    for user in accounts:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append((user.email, store.session_key))
    return sessions


def start_session_clocks(url: str, sessions: list[tuple[str, str]]) -> None:
    """Give every session in ``url``'s database the clocks a real sign-in starts
    (``prakerja.security.session_clock_start``), as of now.

    Without them the first request of each session starts them and writes the session row, which
    a signed-in person's form page does not do (it writes the "seen" clock at most once a minute).
    Called just before each server's run, on its own database, so that neither side's run is
    past the one-minute resolution of the other's.
    """
    import dj_database_url
    import psycopg2
    from django.conf import settings
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from prakerja.security import SESSION_SEEN_KEY, SESSION_STARTED_KEY

    store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
    db = dj_database_url.parse(url)
    now = int(time.time())
    expiry = timezone.now() + datetime.timedelta(seconds=settings.APPLICANT_SESSION_IDLE_SECONDS)
    connection = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT session_key, session_data FROM django_session WHERE session_key = ANY(%s)",
            [[key for _email, key in sessions]],
        )
        rows = []
        for key, data in cursor.fetchall():
            store = store_class(session_key=key)
            values = store.decode(data)
            values[SESSION_STARTED_KEY] = values[SESSION_SEEN_KEY] = now
            # set_expiry(idle), as a sign-in does: the idle limit in seconds.
            values["_session_expiry"] = settings.APPLICANT_SESSION_IDLE_SECONDS
            rows.append((store.encode(values), expiry, key))
        cursor.executemany(
            "UPDATE django_session SET session_data = %s, expire_date = %s WHERE session_key = %s", rows
        )
    connection.close()


def profile_body(n: int) -> dict:
    """A valid profile for client number ``n``: unique NIK, two people per family card."""
    import datetime

    birth = datetime.date(1980, 1, 1) + datetime.timedelta(days=n % 7000)
    day = birth.day + (40 if n % 2 else 0)
    nik = f"327501{day:02d}{birth:%m%y}{1000 + n % 9000:04d}"
    return {
        "nik": nik,
        "kk_number": f"3275010101{n // 2:06d}",
        "full_name": f"Peserta Uji {chr(65 + n % 26)}{chr(65 + (n // 26) % 26)}",
        "birth_place": "Bekasi",
        "birth_date": birth.isoformat(),
        "gender": "F" if n % 2 else "M",
        "address": "Jl. Merdeka No. 1, RT 01/RW 02",
        "province": "32",
        "regency": "32.75",
        "district": "32.75.01",
        "education": "sma",
        "employment_status": "laid_off",
        "not_civil_servant": "on",
        "not_military_police": "on",
        "not_village_official": "on",
        "not_legislator": "on",
        "not_state_company_board": "on",
        "not_student": "on",
        "consent": "on",
    }


def run_clients(clients: int, work, label: str) -> float:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        session = requests.Session()
        barrier.wait()
        for request in work(index, session):
            start = time.perf_counter()
            try:
                response = request()
                ok = response.status_code in (200, 302)
                detail = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                ok, detail = False, exc.__class__.__name__
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(detail)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"{label:<22} {len(latencies):>5} requests  {len(latencies) / wall:7.1f} req/s  "
        f"p50 {statistics.median(latencies) * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms  errors {len(errors)}"
        + (f" ({sorted(set(errors))})" if errors else "")
    )
    return len(latencies) / wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--profiles-per-client", type=int, default=6)
    parser.add_argument("--dashboards-per-client", type=int, default=40)
    parser.add_argument("--baseline", help="a copy of the old code to run side by side")
    parser.add_argument(
        "--port", type=int, default=0, help="the new server's port; the old one uses the next"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per server")
    parser.add_argument(
        "--gunicorn-config",
        help="run both servers with this gunicorn settings file (e.g. prakerja/gunicorn_conf.py, the "
        "production one: 2 processes of 8 threads here) instead of gunicorn's default 2 sync workers",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database this benchmark may drop and recreate")
    users = args.clients * args.profiles_per_client
    # One secret key for the sessions made here and the gunicorn that reads them.
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    print(f"preparing {users} accounts ...")
    sessions = prepare_database(url, users)

    port = args.port or free_port()
    # The surge limiter (prakerja/admission.py) is off: it lets profile posts in at ADMISSION_RATE
    # (18 a second on 2 cores by default), and this bench measures what the code costs, not the knob.
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "ADMISSION_ENABLED": "0"}
    servers = {"new": (BASE_DIR, url, port)}
    if args.baseline:
        old_url = f"{url}_old"
        copy_database(url, old_url)
        servers = {
            "old": (Path(args.baseline), old_url, args.port + 1 if args.port else free_port()),
            **servers,
        }
    processes = []
    for directory, database_url, server_port in servers.values():
        server_env = {**env, "DATABASE_URL": database_url}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=directory, env=server_env, check=True,
        )  # fmt: skip
        processes.append(
            subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "prakerja.wsgi",
                    "--bind",
                    f"127.0.0.1:{server_port}",
                    *(
                        ["-c", str(Path(args.gunicorn_config).resolve())]
                        if args.gunicorn_config
                        else ["--workers", str(args.workers)]
                    ),
                    "--log-level",
                    "warning",
                ],
                cwd=directory,
                env=server_env,
            )  # fmt: skip
        )
    try:
        for _directory, _database_url, server_port in servers.values():
            for _ in range(300):
                try:
                    if requests.get(f"http://127.0.0.1:{server_port}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.3)
        print(
            f"gunicorn {'-c ' + args.gunicorn_config if args.gunicorn_config else f'--workers {args.workers}'} per server ({', '.join(f'{k} on port {v[2]}' for k, v in servers.items())}), "
            f"{args.clients} concurrent clients, database {url.rsplit('/', 1)[-1]}"
        )
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        rates = {}
        for (label, (_directory, _database_url, server_port)), process in zip(
            servers.items(), processes, strict=True
        ):
            base = f"http://127.0.0.1:{server_port}"
            start_session_clocks(_database_url, sessions)
            before = cpu_seconds(process)
            rates[label] = run_clients(
                args.clients,
                make_profile_work(base, args.profiles_per_client, sessions),
                f"profile submissions ({label})",
            )
            spent = {name: cpu_seconds(process)[name] - value for name, value in before.items()}
            print(
                "  CPU per submission (its form page and its post): "
                + ", ".join(f"{name} {seconds / users * 1000:.1f} ms" for name, seconds in spent.items())
            )
            # A 302 to the sign-in page would pass as an answer: count what was really saved.
            print(f"  profiles saved ({label}): {profiles_saved(_database_url)} of {users}")
        if "old" in rates:
            print(f"profile submissions: new / old = {rates['new'] / rates['old']:.1f}x")
        base = f"http://127.0.0.1:{port}"
        run_clients(
            args.clients,
            make_dashboard_work(base, args.dashboards_per_client, sessions),
            "dashboard views (new)",
        )
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        if os.environ.get("REDIS_URL"):
            from prakerja.celery import app

            app.control.purge()  # the civil checks queued by the run: no worker consumes them here


def profiles_saved(url: str) -> int:
    import dj_database_url
    import psycopg2

    db = dj_database_url.parse(url)
    connection = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM registration_applicant WHERE profile_completed_at IS NOT NULL")
        (count,) = cursor.fetchone()
    connection.close()
    return count


def cpu_seconds(server) -> dict[str, float]:
    """CPU time so far of the gunicorn ``server`` (master and workers), this load generator and
    every PostgreSQL process (other users of the server included)."""
    import psutil

    def used(process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    master = psutil.Process(server.pid)
    postgres = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("postgres", "postmaster"):
            postgres += used(process)
    return {
        "gunicorn": used(master) + sum(used(child) for child in master.children(recursive=True)),
        "load generator": used(psutil.Process()),
        "PostgreSQL": postgres,
    }


def make_profile_work(base: str, per_client: int, sessions: list[tuple[str, str]]):
    def profile_work(index, session):
        for k in range(per_client):
            n = index * per_client + k
            _email, key = sessions[n]
            session.cookies.clear()
            session.cookies.set("sessionid", key, domain="127.0.0.1")
            page = session.get(f"{base}/profil/", timeout=60)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            body = {**profile_body(n), "csrfmiddlewaretoken": token}
            yield lambda body=body: session.post(
                f"{base}/profil/",
                data=body,
                timeout=60,
                allow_redirects=False,
                headers={"Referer": f"{base}/profil/"},
            )

    return profile_work


def make_dashboard_work(base: str, per_client: int, sessions: list[tuple[str, str]]):
    def dashboard_work(index, session):
        session.cookies.set("sessionid", sessions[index][1], domain="127.0.0.1")
        for _ in range(per_client):
            yield lambda: session.get(f"{base}/dasbor/", timeout=60)

    return dashboard_work


def copy_database(url: str, copy_url: str) -> None:
    """``copy_url``'s database becomes a copy of ``url``'s (the accounts and sessions made here)."""
    import dj_database_url
    import psycopg2
    from django.db import connections

    connections.close_all()
    db, copy = dj_database_url.parse(url), dj_database_url.parse(copy_url)
    admin = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{copy["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{copy["NAME"]}" TEMPLATE "{db["NAME"]}"')
    admin.close()


if __name__ == "__main__":
    main()
