"""Benchmark: a sign-up surge at 1x, 3x and 10x the machine's capacity, admission control off and on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_surge REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/surge.py [--seconds 30] [--levels 1,3,10] [--port 8160]

1. The argon2 cost: CPU milliseconds per password hash with the portal's hasher (OWASP's minimum,
   m=19 MiB, t=2, p=1) and with Django's default (m=100 MiB, t=2, p=8).
2. Drops and recreates the database in DATABASE_URL, migrates it, collects static files, and starts
   gunicorns with 2 worker processes each (PostgreSQL, Redis) on 127.0.0.1, one per variant
   (--variants, ports from --port on):
   - "off": admission control off, sync workers (the portal before admission control);
   - "fixed": admission on at a fixed ADMISSION_RATE, sync workers (the first version, no process
     queue: ADMISSION_PROCESS_QUEUE=0, ADMISSION_WAIT_SECONDS=0.2);
   - "on": the production configuration: prakerja/gunicorn_conf.py (threaded workers) and the
     adaptive rate, starting at the same ADMISSION_RATE.
3. Capacity: locust, 6 people signing up back to back against the "off" server. Sign-ups a second,
   and the CPU seconds the two gunicorn workers spent per sign-up (from /proc): the per-core rate.
   ADMISSION_RATE = capacity x --headroom (the adaptive rate's start, and the fixed rate).
4. For each level (x capacity), the same open arrival of new people against each variant in turn
   (bench/surge_locustfile.py): completed sign-ups a second, waiting answers (429), 5xx, timeouts
   (30 s), p50/p95 of the admitted posts, people still waiting at the end and how many of them hold a
   waiting page with their form (a ticket), and for "on" the adaptive rate (lowest, last).

Prints the load average before and after, asserts nothing. Everything runs on this machine (locust
too), so the numbers are a floor. Every request goes to 127.0.0.1. Kills both servers at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
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


def start_gunicorn(port: int, env: dict, *, production: bool = False) -> subprocess.Popen:
    # production: the portal's gunicorn settings (threaded workers); otherwise sync workers.
    config = ["-c", str(BASE_DIR / "prakerja" / "gunicorn_conf.py")] if production else []
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "prakerja.wsgi",
            *config,
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


def row(label: str, result: dict, extra: str = "") -> str:
    statuses = result["statuses"]
    five = sum(n for code, n in statuses.items() if code.startswith("5"))
    return (
        f"| {label} | {result['rate']:.1f} | {result['arrivals']} | "
        f"{result['completed_in_window'] / result['seconds']:.1f} | {result['completed']} | "
        f"{result['waiting_answers']} | {five} | {result['timeouts'] + result['connection_errors']} | "
        f"{result['other_errors']} | {pct(result['admitted_ms'], 0.5):.0f} / {pct(result['admitted_ms'], 0.95):.0f} | "
        f"{pct(result['waiting_ms'], 0.95):.0f} | {result['unfinished']} ({result.get('holding', 0)}) |{extra}"
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
    parser.add_argument("--variants", default="off,fixed,on", help="off, fixed and/or on (see above)")
    parser.add_argument("--fixed-levels", default="", help="run 'fixed' only at these levels (default: all)")
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
        variants = args.variants.split(",")
        fixed_levels = [float(x) for x in args.fixed_levels.split(",") if x]
        ports = {"off": args.port}
        masters = {"off": off}
        admission = {"ADMISSION_ENABLED": "1", "ADMISSION_RATE": str(rate)}
        if "fixed" in variants:
            ports["fixed"] = args.port + 1
            fixed = {
                "ADMISSION_ADAPTIVE": "0",
                "ADMISSION_PROCESS_QUEUE": "0",
                "ADMISSION_WAIT_SECONDS": "0.2",
            }
            masters["fixed"] = start_gunicorn(ports["fixed"], {**env, **admission, **fixed})
            servers.append(masters["fixed"])
        if "on" in variants:
            ports["on"] = args.port + 2
            masters["on"] = start_gunicorn(ports["on"], {**env, **admission}, production=True)
            servers.append(masters["on"])
        print(
            f"\nadmission: ADMISSION_RATE={rate} (capacity x {args.headroom}), burst {max(1.0, rate / 4):.1f}; "
            f"'on' adapts it within [{rate / 10:.2f}, {rate * 2:.1f}] (target 1.5 s per admitted post), "
            "2 processes x 8 threads, at most 2 expensive posts running and 4 waiting (2 s) per process "
            "(the settings' defaults)"
        )
        print(
            "\n| admission | offered/s | people | completed/s in window | completed by end | waiting answers (429) "
            "| 5xx | timeouts + conn. errors | other errors | admitted p50 / p95 ms | 429 p95 ms "
            "| still waiting (holding a ticket) | rate lowest / last |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        key = f"admission:{socket.gethostname()}"
        cpu_runs = []
        for level in [float(x) for x in args.levels.split(",")]:
            offered = capacity * level
            for label in variants:
                if label == "fixed" and args.fixed_levels and level not in fixed_levels:
                    continue
                for stale in queue.scan_iter("admission:*"):
                    queue.delete(stale)  # each run starts with an empty queue at the starting rate
                rates: list[float] = []
                done = threading.Event()

                def sample(rates=rates, done=done):
                    while not done.wait(1.0):
                        stored = queue.hget(key, "rate")
                        if stored is not None:
                            rates.append(float(stored))

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                pids = worker_pids(masters[label].pid)
                cpu_before = cpu_seconds(pids)
                result = run_locust(
                    ports[label],
                    mode="open",
                    run=f"{stamp}-{label}{level:g}x",
                    rate=offered,
                    seconds=args.seconds,
                    drain=args.drain,
                )
                done.set()
                sampler.join()
                cpu_runs.append((f"{label}, {level:g}x", cpu_seconds(pids) - cpu_before, result))
                extra = f" {min(rates):.2f} / {rates[-1]:.2f} |" if label == "on" and rates else " - |"
                print(row(f"{label}, {level:g}x", result, extra), flush=True)
                for sample_text in sorted(set(result.get("error_samples", [])))[:3]:
                    print(f"    other error: {sample_text}", flush=True)
        print("\nweb workers' CPU per run (sign-ups and waiting answers together):")
        for label, cpu, result in cpu_runs:
            per = cpu / result["completed"] * 1000 if result["completed"] else float("nan")
            print(
                f"  {label}: {cpu:.1f} s CPU, {result['completed']} sign-ups, {result['waiting_answers']} "
                f"waiting answers: {per:.0f} ms per completed sign-up"
            )
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
