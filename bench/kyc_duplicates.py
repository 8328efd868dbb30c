"""Duplicate-face search (1:N): the old per-worker exact matrix and the shared index, side by side.

    .venv/bin/python bench/kyc_duplicates.py [--faces 2000000] [--segment-size 1000000] [--queries 1000]

Synthetic encodings shaped like dlib's (``bench/kyc_face_data.py``: strangers
about 0.8 apart, a few look-alikes under 0.40). Half the queries are
near-duplicates of stored faces at 0.20-0.40, the other half new people.

* old: ``FaceIndex``, the float32 matrix every worker process used to copy
  (skipped above ``--old-max``).
* new: the faiss IVF segments written by ``SegmentWriter`` (the code path of
  ``manage.py kyc_face_index``, every thread faiss offers; wall and CPU time
  printed) into a scratch directory under var/, then mapped by a fresh
  ``SharedFaceIndex`` as a restarted worker would; each query takes the
  candidates (segments searched in parallel threads, and once more one after
  the other for comparison) and re-ranks them with exact float64 distances of
  the stored encodings (a float32 file standing in for the database rows
  ``kyc_duplicates_find`` reads).

Recall is measured against exact float64 search over every stored face at
the 0.40 threshold; the build time and file size per segment give the curve
to 16,000,000. Prints numbers, asserts nothing; removes its files at the end
unless --keep.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")

import argparse  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from kyc_face_data import blocks, exact_truth, load_average, queries_for  # noqa: E402

from kyc.face_index import NPROBE, FaceIndex, SegmentWriter, SharedFaceIndex  # noqa: E402

SEED = 2026
TARGET = 16_000_000


def memory() -> str:
    """This process's resident memory: its own heap, and pages of mapped files (shareable)."""
    fields = {}
    try:
        with open("/proc/self/smaps_rollup") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    except OSError:
        return ""
    anonymous = fields.get("Anonymous", 0)
    return (
        f"rss {fields.get('Rss', 0):.0f} MiB (own heap {anonymous:.0f}, "
        f"file pages from the page cache {fields.get('Rss', 0) - anonymous:.0f}), "
        f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def latency_line(name: str, latencies: list[float]) -> str:
    ms = np.array(latencies) * 1000
    return (
        f"{name:<34} mean {ms.mean():6.1f}  p50 {np.percentile(ms, 50):6.1f}  "
        f"p95 {np.percentile(ms, 95):6.1f}  max {ms.max():6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=2_000_000)
    parser.add_argument("--segment-size", type=int, default=settings.KYC_FACE_INDEX_SEGMENT_SIZE)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--old-max", type=int, default=2_000_000, help="skip the old exact matrix above this")
    parser.add_argument("--nprobe", default=str(NPROBE), help="lists probed a segment, comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (var/bench_faces)")
    args = parser.parse_args()
    threshold = settings.KYC_DUPLICATE_THRESHOLD
    workdir = ROOT / "var" / "bench_faces"
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "index").mkdir(parents=True)
    print(f"# duplicate-face search, {args.faces:,} encodings ({load_average()})")

    # The stored encodings (stand-in for VerifiedFace rows): a float32 file, face id = row + 1.
    stored = np.lib.format.open_memmap(
        workdir / "encodings.npy", mode="w+", dtype=np.float32, shape=(args.faces, 128)
    )
    writer = SegmentWriter(workdir / "index", segment_size=args.segment_size)
    curve = []  # (faces, cumulative build seconds)
    build_cpu = 0.0
    step = 500_000 if args.faces <= 4_000_000 else 1_000_000
    for start, rows in blocks(args.faces, seed=SEED):
        stored[start : start + len(rows)] = rows
        cpu_started = cpu_seconds()
        writer.add(np.arange(start, start + len(rows)) + 1, rows)
        build_cpu += cpu_seconds() - cpu_started
        done = start + len(rows)
        if done % step == 0 or done == args.faces:
            curve.append((done, writer.build_seconds))
            print(f"  built {done:>11,} faces: {writer.build_seconds:8.1f} s, cpu {build_cpu:8.1f} s "
                  f"({load_average()})", flush=True)  # fmt: skip
    started, cpu_started = time.perf_counter(), cpu_seconds()
    writer.commit()
    build_cpu += cpu_seconds() - cpu_started
    curve[-1] = (curve[-1][0], curve[-1][1] + time.perf_counter() - started)
    stored.flush()
    files = sorted((workdir / "index").glob("*.faiss"))
    index_bytes = sum(path.stat().st_size for path in files)

    queries, planted = queries_for(stored, args.queries, seed=7)
    started = time.perf_counter()
    truth = exact_truth(stored, queries, threshold)
    expected = sum(len(t) for t in truth)
    # Query i < len(planted) is a near-duplicate of stored row planted[i] (the duplicate registration the
    # check is for); every other face within the threshold is a look-alike stranger.
    originals = [{int(row)} for row in planted] + [set() for _ in range(len(queries) - len(planted))]
    planted_expected = sum(len(o & t) for o, t in zip(originals, truth, strict=True))
    with_match = sum(1 for t in truth if t)
    print(f"  of which planted originals {planted_expected}, look-alikes {expected - planted_expected}; "
          f"{with_match} of {len(queries)} queries have a face within the threshold")  # fmt: skip
    print(f"exact float64 search: {expected} stored faces within {threshold} of {len(queries)} queries "
          f"({(time.perf_counter() - started) / len(queries) * 1000:.0f} ms a query, batched)")  # fmt: skip

    print(f"memory before searching: {memory()}")
    # New: a restarted worker maps the segments; nothing is rebuilt.
    started = time.perf_counter()
    worker = SharedFaceIndex(workdir / "index", parallel=True)
    with worker._lock:
        worker._sync()
    opened = time.perf_counter() - started
    serial = SharedFaceIndex(workdir / "index", parallel=False)
    with serial._lock:
        serial._sync()
    sweep = []  # (lists probed, parallel latencies, serial latencies, found, reported above the threshold)
    for nprobe in [int(n) for n in args.nprobe.split(",")]:
        for _name, index in worker._segments + serial._segments:
            index.nprobe = nprobe
        worker.search(queries[0], threshold=threshold)  # first touch
        latencies, found, false_hits = [], 0, 0
        planted_found = decided = 0
        for qi, (query, wanted) in enumerate(zip(queries, truth, strict=True)):
            started = time.perf_counter()
            candidates = worker.search(query, threshold=threshold)
            ids = np.array([c.face_id for c in candidates], dtype=np.int64)
            exact = np.linalg.norm(stored[ids - 1].astype(np.float64) - query.astype(np.float64), axis=1)
            hits = {int(i) - 1 for i in ids[exact <= threshold]}
            latencies.append(time.perf_counter() - started)
            found += len(hits & wanted)
            planted_found += len(hits & wanted & originals[qi])
            decided += bool(hits & wanted)
            false_hits += len(hits - wanted)
        serial_latencies = []
        for query in queries:
            started = time.perf_counter()
            candidates = serial.search(query, threshold=threshold)
            ids = np.array([c.face_id for c in candidates], dtype=np.int64)
            np.linalg.norm(stored[ids - 1].astype(np.float64) - query.astype(np.float64), axis=1)
            serial_latencies.append(time.perf_counter() - started)
        sweep.append((nprobe, latencies, serial_latencies, found, false_hits))
        print(latency_line(f"  {nprobe} lists probed", latencies) + f"  recall {found / max(expected, 1):.3f}"
              f"; planted originals {planted_found / max(planted_expected, 1):.3f}, look-alikes "
              f"{(found - planted_found) / max(expected - planted_expected, 1):.3f}; queries with a match "
              f"found {decided / max(with_match, 1):.3f}", flush=True)  # fmt: skip
    new_memory = memory()

    old_latencies, old_found = [], 0
    if args.faces <= args.old_max:
        old = FaceIndex()
        for start in range(0, args.faces, 100_000):
            rows = np.asarray(stored[start : start + 100_000])
            ids = np.arange(start, start + len(rows)) + 1
            old.add(ids, ids, rows)
        for query, wanted in zip(queries, truth, strict=True):
            started = time.perf_counter()
            matches = old.search(query, threshold=threshold, limit=10_000)
            old_latencies.append(time.perf_counter() - started)
            old_found += len({m.face_id - 1 for m in matches} & wanted)
        del old

    print()
    print(f"threshold {threshold}; {len(queries)} queries ({len(queries) // 2} near-duplicates at 0.20-0.40)")
    if old_latencies:
        print(latency_line("old: exact matrix in each worker", old_latencies)
              + f"  recall {old_found / max(expected, 1):.3f}  ({args.faces * 512 / 2**20:.0f} MiB per worker)")  # fmt: skip
    for nprobe, latencies, serial_latencies, found, false_hits in sweep:
        print(latency_line(f"new: {len(files)} segments, {nprobe} lists", latencies)
              + f"  recall {found / max(expected, 1):.3f}  ({found}/{expected}), reported above threshold: {false_hits}")  # fmt: skip
        print(latency_line("     the same, segments one by one", serial_latencies))
    print(
        f"new: a restarted worker maps the index in {opened * 1000:.0f} ms; after the queries: {new_memory}"
    )
    print(f"index files: {len(files)} segments, {index_bytes / 2**20:.0f} MiB "
          f"({index_bytes / args.faces:.0f} bytes a face)")  # fmt: skip
    per_face = curve[-1][1] / args.faces
    print(f"build ({os.cpu_count()} threads, {writer.trainings} k-means trainings): "
          + ", ".join(f"{n:,} in {s:.0f} s" for n, s in curve)
          + f"; {args.faces / curve[-1][1]:.0f} faces/s, cpu {build_cpu:.0f} s")  # fmt: skip
    segments_16m = -(-TARGET // args.segment_size)
    per_segment_ms = np.percentile(np.array(sweep[0][2]) * 1000, 95) / max(len(files), 1)
    print(f"to {TARGET:,} (linear extrapolation): files {index_bytes / args.faces * TARGET / 2**30:.1f} GiB "
          f"shared by all workers, build {per_face * TARGET / 60:.0f} min at this rate "
          f"(once; then only new faces), {segments_16m} segments of {args.segment_size:,} so p95 one "
          f"segment after another about {per_segment_ms * segments_16m:.0f} ms at this machine's load")  # fmt: skip
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"# done ({load_average()})")


if __name__ == "__main__":
    main()
