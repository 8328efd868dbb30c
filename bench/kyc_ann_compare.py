"""Approximate-nearest-neighbour libraries for the duplicate-face search, side by side.

    .venv/bin/python bench/kyc_ann_compare.py [--faces 1000000] [--queries 1000]
        [--libs usearch-f16,hnswlib,faiss-IVF4096-SQfp16,faiss-IVF4096-SQ8,faiss-IVF4096-Flat]

usearch is not a project dependency any more and hnswlib never was; install
the comparison libraries into the virtualenv for this run only
(``.tools/bin/uv pip install --python .venv/bin/python usearch hnswlib``;
faiss-cpu is a project dependency).

Same synthetic encodings for every library (``face_like``: 128 numbers with
the structure of face encodings, so a few strangers are look-alikes under
0.40). Each index is built with every thread the library offers (the wall
time and the CPU time of all threads are printed), saved, dropped, and opened
again the way a worker process would: usearch ``view`` and faiss
``IO_FLAG_MMAP`` map the file (its pages stay in the shared page cache),
hnswlib has no such mode and loads the index into the process's own memory.
Queries run on one thread: the nearest 32 candidates, then exact float64
distances; recall is against exact float64 search at the 0.40 threshold, for
each search-time setting (HNSW expansion, IVF lists probed). Prints numbers,
asserts nothing.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kyc_face_data import exact_truth, face_like, load_average, queries_for  # noqa: E402

THRESHOLD = 0.40
CANDIDATES = 32
THREADS = os.cpu_count() or 1


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def memory() -> tuple[float, float]:
    """(own heap MiB, pages of mapped files MiB) of this process."""
    fields = {}
    with open("/proc/self/smaps_rollup") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return fields.get("Anonymous", 0.0), fields.get("Rss", 0.0) - fields.get("Anonymous", 0.0)


def build_and_open(lib: str, matrix: np.ndarray, workdir: Path):
    """Build with all threads, save, reopen as a worker.

    Returns (search(query, knob), knobs, file, train seconds, memory before reopening).
    """
    count = len(matrix)
    ids = np.arange(count)
    train_seconds = 0.0
    if lib.startswith("usearch"):
        from usearch.index import Index

        def make():
            return Index(ndim=128, metric="l2sq", dtype=lib.split("-")[1], connectivity=16, expansion_add=64)

        index = make()
        index.add(ids, matrix, threads=THREADS)
        path = workdir / "compare.usearch"
        index.save(str(path))
        del index
        gc.collect()
        before = memory()
        opened = make()
        opened.view(str(path))

        def search(query, knob):
            opened.expansion_search = knob
            return opened.search(query, CANDIDATES, threads=1).keys

        return search, (64, 128, 256), path, train_seconds, before
    if lib == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="l2", dim=128)
        index.init_index(max_elements=count, ef_construction=64, M=16)
        index.set_num_threads(THREADS)
        index.add_items(matrix, ids)
        path = workdir / "compare.hnswlib"
        index.save_index(str(path))
        del index
        gc.collect()
        before = memory()
        opened = hnswlib.Index(space="l2", dim=128)
        opened.load_index(str(path), max_elements=count)  # into this process's memory
        opened.set_num_threads(1)

        def search(query, knob):
            opened.set_ef(knob)
            return opened.knn_query(query, CANDIDATES)[0][0]

        return search, (64, 128, 256), path, train_seconds, before
    if lib.startswith("faiss"):
        import faiss

        _faiss, coarse, codes = lib.split("-")
        nlist = int(coarse.removeprefix("IVF"))
        faiss.omp_set_num_threads(THREADS)
        started = time.perf_counter()
        # As kyc/face_index.py trains a segment: k-means on 40 faces a list, 10 iterations.
        sample = matrix[
            np.sort(np.random.default_rng(1).choice(count, min(count, 40 * nlist), replace=False))
        ]
        kmeans = faiss.Kmeans(128, nlist, niter=10, seed=1, max_points_per_centroid=40, verbose=False)
        kmeans.train(sample)
        quantizer = faiss.IndexFlatL2(128)
        quantizer.add(kmeans.centroids)
        if codes == "Flat":
            index = faiss.IndexIVFFlat(quantizer, 128, nlist)
        else:  # float16 codes of the encodings (as the product); SQ8 of the residuals
            qtype = {"SQfp16": faiss.ScalarQuantizer.QT_fp16, "SQ8": faiss.ScalarQuantizer.QT_8bit}[codes]
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, 128, nlist, qtype, faiss.METRIC_L2, codes == "SQ8"
            )
        index.train(sample)  # the quantizer is trained already; SQ8 learns its ranges
        train_seconds = time.perf_counter() - started
        index.add_with_ids(matrix, ids)
        path = workdir / "compare.faiss"
        faiss.write_index(index, str(path))
        del index, quantizer, kmeans, sample
        gc.collect()
        before = memory()
        faiss.omp_set_num_threads(1)
        opened = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)

        def search(query, knob):
            opened.nprobe = knob
            return opened.search(query[None], CANDIDATES)[1][0]

        return search, (8, 16, 32, 64, 128, 256), path, train_seconds, before
    raise SystemExit(f"unknown library {lib}")


def measure(lib: str, faces: int, query_count: int) -> None:
    """One library in this process (usearch and faiss crash when loaded into the same process)."""
    matrix = face_like(faces, seed=2026)
    queries, _planted = queries_for(matrix, query_count, seed=7)
    truth = exact_truth(matrix, queries, THRESHOLD)
    expected = sum(len(t) for t in truth)
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent / "var") as workdir:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        search, knobs, path, train_seconds, (heap_before, mapped_before) = build_and_open(
            lib, matrix, Path(workdir)
        )
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        for number, knob in enumerate(knobs):
            search(queries[0], knob)  # first touch
            latencies, found = [], 0
            for query, wanted in zip(queries, truth, strict=True):
                started = time.perf_counter()
                rows = np.asarray(search(query, knob), dtype=np.int64)
                rows = rows[(rows >= 0) & (rows < len(matrix))]
                exact = np.linalg.norm(matrix[rows].astype(np.float64) - query.astype(np.float64), axis=1)
                hits = set(rows[exact <= THRESHOLD].tolist())
                latencies.append(time.perf_counter() - started)
                found += len(hits & wanted)
            ms = np.array(latencies) * 1000
            heap, mapped = memory()
            head = (
                f"{lib:<22}{seconds:>8.1f}{cpu:>8.1f}{train_seconds:>8.1f}{path.stat().st_size / 2**20:>9.0f}"
                f"{heap - heap_before:>9.0f}{mapped - mapped_before:>8.0f}"
                if number == 0
                else " " * 78
            )
            print(f"{head}{knob:>6}{np.percentile(ms, 50):>8.2f}{np.percentile(ms, 95):>8.2f}"
                  f"{found / max(expected, 1):>8.3f} ({found}/{expected})", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--libs", default="usearch-f16,hnswlib,faiss-IVF4096-SQfp16,faiss-IVF4096-SQ8")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure(args.one, args.faces, args.queries)
        return
    print(f"# ANN comparison, {args.faces:,} encodings, {args.queries} queries ({args.queries // 2} "
          f"near-duplicates at 0.20-0.40), build on {THREADS} threads ({load_average()})")  # fmt: skip
    print(f"{'library':<22}{'build s':>8}{'cpu s':>8}{'train s':>8}{'file MiB':>9}{'+heap':>9}"
          f"{'+mapped':>8}{'knob':>6}{'p50 ms':>8}{'p95 ms':>8}{'recall':>8}", flush=True)  # fmt: skip
    for lib in args.libs.split(","):
        command = [
            sys.executable,
            __file__,
            "--one",
            lib,
            "--faces",
            str(args.faces),
            "--queries",
            str(args.queries),
        ]
        subprocess.run(command, check=False)
    print(f"# done ({load_average()})")


if __name__ == "__main__":
    main()
