"""Benchmark: a sign-up surge at 1x, 3x and 10x the machine's capacity, admission control off and on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_surge REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/surge.py [--seconds 30] [--levels 1,3,10] [--port 8160]

1. The argon2 cost: CPU milliseconds per password hash with the portal's hasher (OWASP's minimum,
   m=19 MiB, t=2, p=1) and with Django's default (m=100 MiB, t=2, p=8).
2. Drops and recreates the database in DATABASE_URL, migrates it, collects static files, and starts
   two gunicorns (2 sync workers each, PostgreSQL, Redis) on 127.0.0.1: admission control off on
   --port, on at --port + 1 (started after step 3, with ADMISSION_RATE from it).
3. Capacity: locust, 6 people signing up back to back against the "off" server. Sign-ups a second,
   and the CPU seconds the two gunicorn workers spent per sign-up (from /proc): the per-core rate.
4. For each level (x capacity), the same open arrival of new people against "off", then "on"
   (bench/surge_locustfile.py): completed sign-ups a second, waiting answers (429), 5xx, timeouts
   (30 s), p50/p95 of the admitted posts, people still waiting at the end.

Prints the load average before and after, asserts nothing. Everything runs on this machine (locust
too), so the numbers are a floor. Every request goes to 127.0.0.1. Kills both servers at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
PEAK = 1333  # the real programme's peak: 80,000 sign-ups in one minute


def argon2_cost() -> dict[str, float]:
    import argon2

    costs = {}
    for label, (t, m, p) in {
        "portal (OWASP minimum: m=19 MiB, t=2, p=1)": (2, 19 * 1024, 1),
        "Django default (m=100 MiB, t=2, p=8)": (2, 100 * 1024, 8),
    }.items():
        hasher = argon2.PasswordHasher(time_cost=t, memory_cost=m, parallelism=p)
        hasher.hash("warm-up-password")
        runs = 20
        started = time.process_time()
        for n in range(runs):
            hasher.hash(f"password-{n}-bench")
        costs[label] = (time.process_time() - started) / runs * 1000
    return costs


def recreate_database(url: str) -> None:
    import dj_database_url
    import psycopg2

    db = dj_database_url.parse(url)
    admin = psycopg2.connect(dbname="postgres", user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "prakerja.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--pythonpath",
            str(BASE_DIR / "bench"),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    for _ in range(120):
        try:
            if requests.get(f"http://127.0.0.1:{port}/accounts/signup/", timeout=5).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit(f"gunicorn on port {port} did not start")


def run_locust(
    port: int, *, mode: str, run: str, rate: float = 0.0, seconds: float, drain: float, clients: int = 4
) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    env = {
        **os.environ,
        "SURGE_MODE": mode,
        "SURGE_RATE": str(rate),
        "SURGE_SECONDS": str(seconds),
        "SURGE_DRAIN": str(drain),
        "SURGE_CLIENTS": str(clients),
        "SURGE_RUN": run,
        "SURGE_OUT": out,
    }
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(BASE_DIR / "bench" / "surge_locustfile.py"),
            "--headless",
            "-u",
            "1",
            "-r",
            "1",
            "--host",
            f"http://127.0.0.1:{port}",
            "--only-summary",
            "--loglevel",
            "ERROR",
            "-t",
            f"{int(seconds + drain + 30)}s",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    result = json.loads(Path(out).read_text())
    Path(out).unlink()
    return result


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def row(label: str, result: dict) -> str:
    statuses = result["statuses"]
    five = sum(n for code, n in statuses.items() if code.startswith("5"))
    return (
        f"| {label} | {result['rate']:.1f} | {result['arrivals']} | "
        f"{result['completed_in_window'] / result['seconds']:.1f} | {result['completed']} | "
        f"{result['waiting_answers']} | {five} | {result['timeouts'] + result['connection_errors']} | "
        f"{result['other_errors']} | {pct(result['admitted_ms'], 0.5):.0f} / {pct(result['admitted_ms'], 0.95):.0f} | "
        f"{pct(result['waiting_ms'], 0.95):.0f} | {result['unfinished']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30, help="arrival window per run")
    parser.add_argument("--drain", type=float, default=40, help="wait after the window for people in flight")
    parser.add_argument("--levels", default="1,3,10")
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--headroom", type=float, default=0.8, help="ADMISSION_RATE = capacity x this")
    parser.add_argument("--reuse-db", action="store_true", help="keep the database of an earlier run")
    parser.add_argument("--clients", type=int, default=6, help="people signing up back to back (capacity)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL (PostgreSQL; it is dropped and recreated) and REDIS_URL.")

    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores", flush=True)
    for label, ms in argon2_cost().items():
        print(f"argon2id {label}: {ms:.1f} ms CPU per hash ({1000 / ms:.1f} hashes per core-second)")

    if not args.reuse_db:
        recreate_database(url)
    env = {
        **os.environ,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "surge_settings",
        "PYTHONPATH": str(BASE_DIR / "bench"),
        "WEB_CONCURRENCY": "2",
    }
    if not args.reuse_db:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True
        )
    stamp = int(time.time())  # e-mail addresses of this run's people: new ones on every run
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True
    )

    import redis

    queue = redis.Redis.from_url(os.environ["REDIS_URL"])
    servers = []
    try:
        off = start_gunicorn(args.port, {**env, "ADMISSION_ENABLED": "0"})
        servers.append(off)
        pids = worker_pids(off.pid)
        cpu_before = cpu_seconds(pids)
        capacity_run = run_locust(
            args.port,
            mode="closed",
            run=f"{stamp}-capacity",
            seconds=args.seconds,
            drain=30,
            clients=args.clients,
        )
        cpu = cpu_seconds(pids) - cpu_before
        capacity = capacity_run["completed_in_window"] / args.seconds
        cpu_per_signup = cpu / max(1, capacity_run["completed"])
        per_core = 1 / cpu_per_signup
        print(
            f"\ncapacity ({args.clients} people back to back, admission off): {capacity:.1f} sign-ups/s, "
            f"p50/p95 {pct(capacity_run['admitted_ms'], 0.5):.0f}/{pct(capacity_run['admitted_ms'], 0.95):.0f} ms; "
            f"gunicorn workers' CPU {cpu_per_signup * 1000:.0f} ms per sign-up = {per_core:.1f} sign-ups per core-second"
        )
        for cores in (2, 8, 16):
            print(f"  web nodes for {PEAK}/s at {cores} cores each: {math.ceil(PEAK / (per_core * cores))}")

        rate = round(capacity * args.headroom, 1)
        on = start_gunicorn(args.port + 1, {**env, "ADMISSION_ENABLED": "1", "ADMISSION_RATE": str(rate)})
        servers.append(on)
        print(
            f"\nadmission on: ADMISSION_RATE={rate} (capacity x {args.headroom}), burst {max(1.0, rate / 4):.1f}"
        )
        print(
            "\n| admission | offered/s | people | completed/s in window | completed by end | waiting answers (429) "
            "| 5xx | timeouts + conn. errors | other errors | admitted p50 / p95 ms | 429 p95 ms | still waiting |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for level in [float(x) for x in args.levels.split(",")]:
            offered = capacity * level
            for label, port in (("off", args.port), ("on", args.port + 1)):
                for key in queue.scan_iter("admission:*"):
                    queue.delete(key)  # each run starts with an empty queue
                result = run_locust(
                    port,
                    mode="open",
                    run=f"{stamp}-{label}{level:g}x",
                    rate=offered,
                    seconds=args.seconds,
                    drain=args.drain,
                )
                print(row(f"{label}, {level:g}x", result), flush=True)
                for sample in sorted(set(result.get("error_samples", [])))[:3]:
                    print(f"    other error: {sample}", flush=True)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        queue.flushdb()  # the bench's own Redis database: the queue and the unsent e-mail tasks
        print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
