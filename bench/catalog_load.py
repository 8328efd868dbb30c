"""Catalog load test: 5,000 trainings on 8 platforms, gunicorn (2 workers), 50 concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench \
        .venv/bin/python bench/catalog_load.py [--requests 2000] [--clients 50] [--trainings 5000] [--port 8140]

Migrates the database named by DATABASE_URL, fills it (idempotently) with the
demo catalog, starts two gunicorns on loopback ports (``--port`` and the next
one, or free ones): the old way, with the catalog page cache off
(``MARKETPLACE_CATALOG_CACHE_SECONDS=0``, every page rendered from the
database), and the new way, with it on. Each scenario runs against the old
server and then the new one, a bounded number of requests from 50 threads with
keep-alive connections, so both sides see the same machine load. Prints
requests/s and latency percentiles side by side; asserts nothing. The load
generator runs on the same machine as the servers, so the numbers are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

SEARCH_TERMS = [
    "desain",
    "bahasa inggris",
    "excel",
    "barista",
    "pemasaran digital",
    "menjahit",
    "python",
    "hidroponik",
]


def scenarios(training_ids: list[int]) -> dict[str, callable]:
    rng = random.Random(7)
    return {
        "catalog, first page (neutral order)": lambda: "/pelatihan/",
        "catalog, filter + sort by price": lambda: (
            f"/pelatihan/?category={rng.choice(['it', 'design', 'food', 'language'])}&sort=price_asc"
        ),
        "catalog, page 20 sorted by rating": lambda: "/pelatihan/?sort=rating&page=20",
        "search (full text), relevance": lambda: (
            f"/pelatihan/?q={rng.choice(SEARCH_TERMS).replace(' ', '+')}"
        ),
        "search + sort by price desc": lambda: (
            f"/pelatihan/?q={rng.choice(SEARCH_TERMS).replace(' ', '+')}&sort=price_desc"
        ),
        "nearest with location": lambda: (
            f"/pelatihan/?sort=distance&lat={rng.uniform(-7.5, -6):.2f}&lng={rng.uniform(106, 112):.2f}"
        ),
        "training detail page": lambda: f"/pelatihan/{rng.choice(training_ids)}/",
    }


def run(cmd: list[str], env: dict) -> str:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def load(port: int, make_path, *, total: int, clients: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def worker():
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while True:
            with lock:
                if next(counter, None) is None:
                    break
                path = make_path()
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "elapsed": elapsed,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "mean": statistics.fmean(latencies) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--trainings", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="old server's port; the new one uses the next")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit(
            "Set DATABASE_URL to a PostgreSQL database for the benchmark (it is migrated and filled)."
        )
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}

    print("migrating and seeding ...", flush=True)
    run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], env)
    print(run([PYTHON, "manage.py", "seed_catalog", "--trainings", str(args.trainings)], env).strip())
    run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], env)
    # Fresh statistics, as autovacuum would eventually gather after a bulk load.
    run(
        [
            PYTHON,
            "manage.py",
            "shell",
            "-c",
            "from django.db import connection; connection.cursor().execute('ANALYZE')",
        ],
        env,
    )
    ids_script = (
        "from marketplace.selectors import trainings_visible; "
        "print(','.join(str(i) for i in trainings_visible().values_list('pk', flat=True)))"
    )
    output = run([PYTHON, "manage.py", "shell", "--no-imports", "-c", ids_script], env)
    training_ids = [int(x) for x in output.strip().splitlines()[-1].split(",")]

    ports = (args.port, args.port + 1) if args.port else (free_port(), free_port())
    servers = {}
    for label, port, cache_seconds in (("old", ports[0], "0"), ("new", ports[1], "600")):
        servers[label] = (
            port,
            subprocess.Popen(
                [str(Path(PYTHON).parent / "gunicorn"), "prakerja.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(args.workers), "--log-level", "warning"],
                cwd=ROOT, env={**env, "MARKETPLACE_CATALOG_CACHE_SECONDS": cache_seconds},
            ),
        )  # fmt: skip
    try:
        for port, _server in servers.values():
            wait_for(port)
        print(
            f"\ngunicorn {args.workers} workers each (old: cache off, port {ports[0]}; new: cache on, "
            f"port {ports[1]}), {args.clients} clients, {args.requests} requests per scenario and server, "
            f"{len(training_ids)} visible trainings"
        )
        print(
            "load average before: {:.2f} {:.2f} {:.2f} (other processes share this machine)".format(
                *os.getloadavg()
            )
        )
        header = f"{'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'err':>4}"
        print(f"{'':<40} {'old (no cache)':^32} | {'new (versioned cache)':^32} |")
        print(f"{'scenario':<40} {header} | {header} | {'x req/s':>7}")
        totals = {"old": [0, 0.0], "new": [0, 0.0]}
        for name in scenarios(training_ids):
            row = {}
            for label, (port, _server) in servers.items():
                # The same paths for both servers: the generator is reseeded per server.
                paths = scenarios(training_ids)[name]
                load(port, paths, total=min(200, args.requests), clients=args.clients)  # warm-up
                row[label] = load(port, paths, total=args.requests, clients=args.clients)
                if name != "training detail page":
                    totals[label][0] += row[label]["requests"]
                    totals[label][1] += row[label]["elapsed"]
            cells = [
                f"{r['rps']:>7.1f} {r['p50']:>6.0f} {r['p95']:>6.0f} {r['p99']:>6.0f} {r['errors']:>4}"
                for r in (row["old"], row["new"])
            ]
            print(
                f"{name:<40} {cells[0]} | {cells[1]} | {row['new']['rps'] / row['old']['rps']:>6.1f}x",
                flush=True,
            )
        old_rps, new_rps = (totals[k][0] / totals[k][1] for k in ("old", "new"))
        print(
            f"{'list, filter, search (all but detail)':<40} {old_rps:>7.1f} {'':>25} | {new_rps:>7.1f} {'':>25} |"
            f" {new_rps / old_rps:>6.1f}x"
        )
        print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        for _port, server in servers.values():
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
