"""Duplicate-face search (1:N) with 1,000,000 stored encodings.

    .venv/bin/python bench/kyc_duplicates.py [--faces 1000000] [--queries 200]

Fills kyc.face_index.FaceIndex (the matrix every worker keeps) with synthetic
128-number encodings shaped like dlib's, plants 100 near-duplicates of known
faces (distance about 0.3), then times single-threaded queries and checks the
answers against brute-force float64 search (recall). Prints numbers, asserts nothing.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402

from kyc.face_index import FaceIndex  # noqa: E402


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--planted", type=int, default=100)
    parser.add_argument("--brute-force-checks", type=int, default=20)
    parser.add_argument(
        "--pg",
        default="",
        help="postgres://... : also time a worker's cold load of every encoding from PostgreSQL (temp table)",
    )
    args = parser.parse_args()
    threshold = settings.KYC_DUPLICATE_THRESHOLD
    rng = np.random.default_rng(2026)
    print(f"# duplicate-face search benchmark ({load_average()})")

    index = FaceIndex()
    started = time.perf_counter()
    chunk = 100_000
    for start in range(0, args.faces, chunk):
        count = min(chunk, args.faces - start)
        block = rng.normal(0, 0.09, (count, 128)).astype(np.float32)
        ids = np.arange(start, start + count) + 1
        index.add(ids, ids, block)  # applicant id = face id here
    build = time.perf_counter() - started
    matrix = index._matrix[: len(index)]

    # Queries: the first half are planted near-duplicates of stored faces (noise ~0.3 away).
    planted_rows = rng.choice(len(index), size=args.planted, replace=False)
    noise = rng.normal(0, 1, (args.planted, 128)).astype(np.float32)
    noise *= (0.3 / np.linalg.norm(noise, axis=1))[:, None]
    planted = matrix[planted_rows] + noise
    strangers = rng.normal(0, 0.09, (max(args.queries - args.planted, 0), 128)).astype(np.float32)
    queries = np.concatenate([planted, strangers])

    index.search(queries[0], threshold=threshold)  # warm caches
    latencies, found_planted = [], 0
    for position, query in enumerate(queries):
        started = time.perf_counter()
        matches = index.search(query, threshold=threshold)
        latencies.append(time.perf_counter() - started)
        if position < args.planted and any(m.face_id == planted_rows[position] + 1 for m in matches):
            found_planted += 1
    latencies_ms = np.array(latencies) * 1000

    agree = 0
    checks = min(args.brute_force_checks, len(queries))
    check_rows = np.concatenate([np.arange(checks // 2), args.planted + np.arange(checks - checks // 2)])
    started = time.perf_counter()
    for row in check_rows:
        query = queries[row]
        exact = np.linalg.norm(matrix.astype(np.float64) - query.astype(np.float64), axis=1)
        expected = sorted(int(i) + 1 for i in np.flatnonzero(exact <= threshold))
        got = sorted(m.face_id for m in index.search(query, threshold=threshold, limit=10_000))
        agree += expected == got
    brute = (time.perf_counter() - started) / len(check_rows)

    print(
        f"stored encodings: {len(index):,} (float32 matrix {matrix.nbytes / 2**20:.0f} MiB), built in {build:.1f} s"
    )
    print(f"threshold {threshold}; queries {len(queries)} ({args.planted} planted near-duplicates)")
    print(
        f"query latency (1 thread): mean {latencies_ms.mean():.1f} ms, p50 {np.percentile(latencies_ms, 50):.1f} ms, "
        f"p95 {np.percentile(latencies_ms, 95):.1f} ms, max {latencies_ms.max():.1f} ms"
    )
    print(
        f"planted duplicates found: {found_planted}/{args.planted} (recall {found_planted / args.planted:.3f})"
    )
    print(f"identical to brute-force float64 search: {agree}/{len(check_rows)} queries "
          f"(brute force {brute * 1000:.0f} ms/query)")  # fmt: skip
    if args.pg:
        cold_load(args.pg, matrix)
    print(f"# done ({load_average()})")


def cold_load(url: str, matrix: np.ndarray) -> None:
    """COPY the encodings into a temporary table, then read them back the way FaceIndex.refresh does."""
    import io

    import psycopg2

    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_faces (id bigint PRIMARY KEY, applicant_id bigint, encoding bytea)"
        )
        started = time.perf_counter()
        for start in range(0, len(matrix), 100_000):
            block = io.StringIO()
            for offset, row in enumerate(matrix[start : start + 100_000]):
                block.write(f"{start + offset + 1}\t{start + offset + 1}\t\\\\x{row.tobytes().hex()}\n")
            block.seek(0)
            cursor.copy_expert("COPY bench_faces FROM STDIN", block)
        print(f"PostgreSQL: wrote {len(matrix):,} rows in {time.perf_counter() - started:.1f} s (setup)")
    index = FaceIndex()
    started = time.perf_counter()
    with connection, connection.cursor(name="bench_faces_read") as cursor:
        cursor.itersize = 20_000
        cursor.execute("SELECT id, applicant_id, encoding FROM bench_faces WHERE id > 0 ORDER BY id")
        batch = []
        for row in cursor:
            batch.append(row)
            if len(batch) >= 20_000:
                index._add_rows(batch)
                batch = []
        index._add_rows(batch)
    print(
        f"cold load of {len(index):,} encodings from PostgreSQL into a worker: "
        f"{time.perf_counter() - started:.1f} s (once per worker process; then only new rows); "
        f"identical to the matrix: {np.array_equal(index._matrix[: len(index)], matrix)}"
    )
    connection.close()


if __name__ == "__main__":
    main()
