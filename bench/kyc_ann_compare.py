"""Approximate-nearest-neighbour libraries for the duplicate-face search, side by side.

    .venv/bin/python bench/kyc_ann_compare.py [--faces 1000000] [--libs usearch-f16,hnswlib,usearch-i8]

usearch is a project dependency; hnswlib and faiss-cpu are not, install them
into the virtualenv for this comparison only
(``.tools/bin/uv pip install --python .venv/bin/python hnswlib faiss-cpu``).

Same synthetic encodings for every library (``face_like``: 128 numbers with
the structure of face encodings, so a few strangers are look-alikes under
0.40), HNSW with 16 links per node and 64 candidates when building and
searching, one thread. For each library: build time, index memory, query
latency (top 32, then exact distances), and recall against exact search at
the duplicate threshold. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kyc_face_data import exact_truth, face_like, load_average, queries_for  # noqa: E402

THRESHOLD = 0.40
CANDIDATES = 32


def build(lib: str, matrix: np.ndarray, workdir: Path):
    """(search(query) -> candidate row numbers, index bytes on disk)."""
    count = len(matrix)
    if lib.startswith("usearch"):
        from usearch.index import Index

        index = Index(
            ndim=128,
            metric="l2sq",
            dtype=lib.split("-")[1],
            connectivity=16,
            expansion_add=64,
            expansion_search=64,
        )
        for start in range(0, count, 100_000):
            block = matrix[start : start + 100_000]
            index.add(np.arange(start, start + len(block)), block, threads=1)
        path = workdir / "compare.usearch"
        index.save(str(path))
        return (lambda q: index.search(q, CANDIDATES, threads=1).keys), path.stat().st_size
    if lib == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="l2", dim=128)
        index.init_index(max_elements=count, ef_construction=64, M=16)
        index.set_num_threads(1)
        for start in range(0, count, 100_000):
            block = matrix[start : start + 100_000]
            index.add_items(block, np.arange(start, start + len(block)))
        index.set_ef(64)
        path = workdir / "compare.hnswlib"
        index.save_index(str(path))
        return (lambda q: index.knn_query(q, CANDIDATES)[0][0]), path.stat().st_size
    if lib.startswith("faiss"):
        import faiss

        faiss.omp_set_num_threads(1)
        index = faiss.index_factory(128, lib.split("-", 1)[1])
        index.train(matrix[: min(count, 200_000)])
        index.add(matrix)
        if "IVF" in lib:
            faiss.extract_index_ivf(index).nprobe = 32
        if "HNSW" in lib:
            index.hnsw.efSearch = 64
        return (lambda q: index.search(q[None], CANDIDATES)[1][0]), faiss.serialize_index(index).nbytes
    raise SystemExit(f"unknown library {lib}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--libs", default="usearch-f16,hnswlib")
    args = parser.parse_args()
    print(f"# ANN comparison, {args.faces:,} encodings ({load_average()})")
    matrix = face_like(args.faces, seed=2026)
    queries, _planted = queries_for(matrix, args.queries, seed=7)
    truth = exact_truth(matrix, queries, THRESHOLD)
    expected = sum(len(t) for t in truth)
    print(f"exact search: {expected} stored faces within {THRESHOLD} of the {len(queries)} queries")
    print(f"{'library':<22}{'build s':>9}{'adds/s':>9}{'index MiB':>11}{'rss MiB':>9}"
          f"{'p50 ms':>8}{'p95 ms':>8}{'recall':>8}")  # fmt: skip
    for lib in args.libs.split(","):
        with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent / "var") as workdir:
            started = time.perf_counter()
            search, size = build(lib, matrix, Path(workdir))
            seconds = time.perf_counter() - started
            latencies, found = [], 0
            for query, wanted in zip(queries, truth, strict=True):
                started = time.perf_counter()
                rows = np.asarray(search(query), dtype=np.int64)
                rows = rows[rows >= 0]
                exact = np.linalg.norm(matrix[rows] - query, axis=1)
                hits = set(rows[exact <= THRESHOLD].tolist())
                latencies.append(time.perf_counter() - started)
                found += len(hits & wanted)
            ms = np.array(latencies) * 1000
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{lib:<22}{seconds:>9.1f}{args.faces / seconds:>9.0f}{size / 2**20:>11.0f}{rss:>9.0f}"
                  f"{np.percentile(ms, 50):>8.2f}{np.percentile(ms, 95):>8.2f}"
                  f"{found / max(expected, 1):>8.3f}", flush=True)  # fmt: skip
    print(f"# done ({load_average()})")


if __name__ == "__main__":
    main()
