"""Duplicate-face search (1:N) over the selfie encodings of verified applicants.

Two parts, searched together by ``SharedFaceIndex``:

* Segments on disk (``KYC_FACE_INDEX_DIR``): faiss inverted-file indexes
  (IVF) of the encodings in half precision (float16, 256 bytes a face), at
  most ``KYC_FACE_INDEX_SEGMENT_SIZE`` faces each, listed with the highest
  face id they cover in ``manifest.json``. Every worker process maps them
  read-only (``IO_FLAG_MMAP_IFC``), so the operating system keeps one copy in
  its page cache for all the workers of a machine. ``face_index_update`` (a
  beat task and ``manage.py kyc_face_index``) appends the faces verified since
  the manifest's ``last_id`` to the newest segment (or starts a new one),
  writes it under a new name and replaces the manifest atomically; workers
  notice the new manifest on their next search. Nothing is rebuilt on a
  restart: the files are simply mapped again.
* The tail: faces newer than the manifest, kept by each worker in an exact
  float32 matrix (``FaceIndex``) and topped up with one indexed query per
  search (``id > last_id``).

A segment's faces are grouped into ``nlist`` lists around k-means centroids
(about ``LIST_SIZE`` faces a list, at most ``NLIST_MAX`` lists); a search
compares the query with the centroids and scans the faces of the ``NPROBE``
nearest lists. A segment starts with the centroids of the previous full
segment (same population, no training), or, for the first one, trains them on
its own faces and trains again as it grows fourfold. Segments are searched one
after the other (``parallel=True``: in threads, as faiss releases the GIL; that
was slower on this loaded 2-core machine, bench/README.md).

The segments give candidates (every face of the probed lists within a safety
margin of the threshold by the float16 distance, a range search); the caller
confirms every candidate with the exact float64 distance of the stored
encoding (``kyc_duplicates_find`` reads them from the database), so the
decision at the threshold is exact and a removed face is never reported.
``bench/kyc_duplicates.py`` measures it, ``bench/kyc_ann_compare.py`` compares
libraries (faiss IVF was chosen over usearch and hnswlib HNSW graphs for its
build time; bench/README.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from kyc.models import ENCODING_DTYPE, ENCODING_SIZE, VerifiedFace

logger = logging.getLogger(__name__)

LOAD_CHUNK = 20_000
MANIFEST = "manifest.json"
# The segment file format; a manifest of another format (the earlier usearch
# segments) is ignored and the next update rebuilds.
FORMAT = "faiss-ivf-fp16"
SUFFIX = ".faiss"
# Inverted lists: about LIST_SIZE faces a list when trained, at most NLIST_MAX
# lists a segment; NPROBE lists searched a query. Recall of exact search at 0.40 with
# the range search, 16,000,000 faces: 0.989 / 0.998 / 0.999 with 256 / 384 / 512 lists,
# p95 23.8 / 37.8 / 50.8 ms one segment after the other (bench/README.md, "Duplicate
# faces at 16,000,000, second pass").
LIST_SIZE = 256
NLIST_MAX = 4096
NPROBE = 384
TRAIN_POINTS_PER_LIST = 40
TRAIN_ITERATIONS = 10
# Faces read from the database before they go to the writer (a first segment trains on them).
TRAIN_BATCH = 262_144
# How far past the threshold (in distance) a float16 candidate may be and still be checked exactly.
# float16 keeps 11 significant bits: an encoding's element (|x| < 0.5) is off by at most 2.5e-4, a
# 128-number encoding by at most 0.0028 in distance, so 0.01 loses nothing at the threshold.
QUANTISATION_MARGIN = 0.01
# Every face of the probed lists within threshold + margin is a candidate (a range search: a fixed
# number of nearest lost faces where look-alikes crowd, bench/README.md); at most this many of the
# nearest a segment, so that a query among thousands of near-identical faces stays bounded.
SEGMENT_CANDIDATES = 1_000


@dataclass(frozen=True)
class FaceMatch:
    face_id: int
    applicant_id: int
    distance: float


class FaceIndex:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.clear()

    def clear(self, *, after_id: int = 0) -> None:
        """Forget every row; the next ``refresh`` loads the faces with ``id > after_id``."""
        with self._lock:
            self._size = 0
            self._ids = np.empty(0, dtype=np.int64)
            self._applicants = np.empty(0, dtype=np.int64)
            self._matrix = np.empty((0, ENCODING_SIZE), dtype=ENCODING_DTYPE)
            self._norms = np.empty(0, dtype=ENCODING_DTYPE)
            self.after_id = after_id
            self.last_id = after_id
            self.loaded_at = 0.0

    def __len__(self) -> int:
        return self._size

    def _reserve(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        new_capacity = max(needed, int(capacity * 1.5) + 1024)
        for name, shape in (
            ("_ids", (new_capacity,)),
            ("_applicants", (new_capacity,)),
            ("_matrix", (new_capacity, ENCODING_SIZE)),
            ("_norms", (new_capacity,)),
        ):
            old = getattr(self, name)
            grown = np.empty(shape, dtype=old.dtype)
            grown[: self._size] = old[: self._size]
            setattr(self, name, grown)

    def add(self, ids, applicant_ids, encodings: np.ndarray) -> None:
        """Append rows (ids ascending). ``encodings`` is (n, 128)."""
        encodings = np.asarray(encodings, dtype=ENCODING_DTYPE).reshape(-1, ENCODING_SIZE)
        count = encodings.shape[0]
        if not count:
            return
        with self._lock:
            self._reserve(self._size + count)
            end = self._size + count
            self._ids[self._size : end] = ids
            self._applicants[self._size : end] = applicant_ids
            self._matrix[self._size : end] = encodings
            self._norms[self._size : end] = np.einsum("ij,ij->i", encodings, encodings)
            self._size = end
            self.last_id = max(self.last_id, int(self._ids[end - 1]))

    def refresh(self, *, reload_after: float | None = None) -> int:
        """Load the verified faces added since the last call; returns how many."""
        with self._lock:
            if (
                reload_after is not None
                and self.loaded_at
                and time.monotonic() - self.loaded_at > reload_after
            ):
                self.clear(after_id=self.after_id)
            if not self.loaded_at:
                self.loaded_at = time.monotonic()
            rows = (
                VerifiedFace.objects.filter(id__gt=self.last_id)
                .order_by("id")
                .values_list("id", "applicant_id", "encoding")
            )
            added = 0
            batch: list[tuple[int, int, bytes]] = []
            for row in rows.iterator(chunk_size=LOAD_CHUNK):
                batch.append(row)
                if len(batch) >= LOAD_CHUNK:
                    added += self._add_rows(batch)
                    batch = []
            added += self._add_rows(batch)
            return added

    def _add_rows(self, rows: list[tuple[int, int, bytes]]) -> int:
        if not rows:
            return 0
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        applicants = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(bytes(r[2]) for r in rows), dtype=ENCODING_DTYPE)
        self.add(ids, applicants, matrix.reshape(len(rows), ENCODING_SIZE))
        return len(rows)

    def search(
        self,
        encoding,
        *,
        threshold: float,
        exclude_applicant_id: int | None = None,
        limit: int = 10,
    ) -> list[FaceMatch]:
        """Verified faces closer than ``threshold``, nearest first, at most ``limit``."""
        query = np.asarray(encoding, dtype=ENCODING_DTYPE).reshape(ENCODING_SIZE)
        with self._lock:
            size = self._size
            if not size:
                return []
            matrix, norms = self._matrix[:size], self._norms[:size]
            squared = norms - 2.0 * (matrix @ query) + float(query @ query)
            hits = np.flatnonzero(squared <= threshold * threshold + 1e-6)
            if exclude_applicant_id is not None and hits.size:
                hits = hits[self._applicants[hits] != exclude_applicant_id]
            if hits.size > limit:
                hits = hits[np.argpartition(squared[hits], limit)[:limit]]
            # Exact distances (float64) for the few hits, then the threshold once more.
            exact = np.linalg.norm(matrix[hits].astype(np.float64) - query.astype(np.float64), axis=1)
            found = [
                FaceMatch(int(self._ids[i]), int(self._applicants[i]), float(d))
                for i, d in zip(hits, exact, strict=True)
                if d <= threshold
            ]
        return sorted(found, key=lambda match: match.distance)


def _faiss():
    import faiss  # native code: loaded on first use, not at import

    return faiss


def nlist_for(count: int) -> int:
    """Lists for a segment trained on ``count`` faces: a power of two, about LIST_SIZE faces each."""
    lists = 1
    while lists * 2 <= min(count // LIST_SIZE, NLIST_MAX):
        lists *= 2
    return lists


def _centroids(vectors: np.ndarray, nlist: int) -> np.ndarray:
    """k-means centroids of a sample (fixed seed: the same faces give the same segment)."""
    if nlist == 1:
        return vectors.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
    faiss = _faiss()
    sample_size = min(len(vectors), nlist * TRAIN_POINTS_PER_LIST)
    rows = np.random.default_rng(nlist).choice(len(vectors), sample_size, replace=False)
    kmeans = faiss.Kmeans(
        ENCODING_SIZE,
        nlist,
        niter=TRAIN_ITERATIONS,
        seed=1234,
        max_points_per_centroid=TRAIN_POINTS_PER_LIST,
        verbose=False,
    )
    kmeans.train(np.ascontiguousarray(vectors[np.sort(rows)]))
    return kmeans.centroids


def _new_segment_index(centroids: np.ndarray):
    """An empty IVF index (float16 codes of the encodings themselves, not of residuals)."""
    faiss = _faiss()
    quantizer = faiss.IndexFlatL2(ENCODING_SIZE)
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, ENCODING_SIZE, len(centroids), faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_L2, False
    )
    index.train(np.ascontiguousarray(centroids, dtype=np.float32))  # the quantizer is already trained
    index.nprobe = NPROBE
    return index


def _segment_contents(index) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 encodings) of every face in an in-memory segment, ids ascending."""
    faiss = _faiss()
    invlists = index.invlists
    ids, codes = [], []
    for number in range(index.nlist):
        size = invlists.list_size(number)
        if size:
            ids.append(faiss.rev_swig_ptr(invlists.get_ids(number), size).copy())
            codes.append(faiss.rev_swig_ptr(invlists.get_codes(number), size * index.code_size).copy())
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty((0, ENCODING_SIZE), dtype=np.float32)
    all_ids = np.concatenate(ids)
    vectors = np.concatenate(codes).view(np.float16).reshape(-1, ENCODING_SIZE).astype(np.float32)
    order = np.argsort(all_ids, kind="stable")
    return all_ids[order], vectors[order]


def _segment_centroids(index) -> np.ndarray:
    return index.quantizer.reconstruct_n(0, index.nlist)


def _open_segment(path: Path, *, view: bool):
    faiss = _faiss()
    # view: mapped in place, read-only, so the pages are shared through the page cache.
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if view else 0)
    index.nprobe = NPROBE
    return index


def _manifest_read(directory: Path) -> dict:
    try:
        with open(directory / MANIFEST, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"format": FORMAT, "segments": [], "last_id": 0}


def _manifest_usable(manifest: dict) -> bool:
    return manifest.get("format") == FORMAT and _manifest_matches_database(manifest)


_search_pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool)
_search_pool_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Threads that search the segments side by side (one a core; faiss releases the GIL).

    Made per process: a pool inherited through fork has no threads.
    """
    global _search_pool
    with _search_pool_lock:
        if _search_pool is None or _search_pool[0] != os.getpid():
            workers = max(2, os.cpu_count() or 1)
            _search_pool = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=workers, thread_name_prefix="face-index"),
            )
        return _search_pool[1]


def _segment_search(index, query: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """(squared float16 distances, face ids) of the faces of the probed lists within ``radius``."""
    _limits, squared, keys = index.range_search(query, radius * radius)
    if len(keys) > SEGMENT_CANDIDATES:
        nearest = np.argpartition(squared, SEGMENT_CANDIDATES)[:SEGMENT_CANDIDATES]
        squared, keys = squared[nearest], keys[nearest]
    return squared, keys


class SharedFaceIndex:
    """The memory-mapped segments plus this process's exact tail; see the module docstring."""

    def __init__(self, directory: Path | str | None = None, *, parallel: bool = False) -> None:
        self._directory = Path(directory) if directory is not None else None
        self._lock = threading.RLock()
        # Segments in parallel threads: slower than one after the other at 16,000,000 on
        # this 2-core machine (p95 104 against 61 ms, bench/README.md), so off by default.
        self.parallel = parallel
        self.tail = FaceIndex()
        self.clear()

    @property
    def directory(self) -> Path:
        return self._directory or Path(settings.KYC_FACE_INDEX_DIR)

    def clear(self) -> None:
        """Forget the mapped segments and the tail, as a new worker process would start."""
        with self._lock:
            self._manifest_stamp: tuple | None = None
            self._segments: list = []  # (file name, mapped faiss index)
            self.last_id = 0
            self.tail.clear()

    def __len__(self) -> int:
        return sum(index.ntotal for _name, index in self._segments) + len(self.tail)

    def _sync(self) -> None:
        """Map the segments of the current manifest if it changed since the last look (one stat)."""
        path = self.directory / MANIFEST
        try:
            status = path.stat()
        except FileNotFoundError:
            stamp = None
        else:
            stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp == self._manifest_stamp:
            return
        manifest = _manifest_read(self.directory)
        if not _manifest_usable(manifest):
            logger.warning(
                "kyc face index: %s is not from this database or version; searching exactly", self.directory
            )
            manifest = {"format": FORMAT, "segments": [], "last_id": 0}
        opened = dict(self._segments)
        segments = []
        try:
            for entry in manifest["segments"]:
                name = entry["file"]
                index = opened.get(name)
                if index is None:
                    index = _open_segment(self.directory / name, view=True)
                segments.append((name, index))
        except (FileNotFoundError, RuntimeError, ValueError):
            # Replaced again while being read: keep the current view, look again next time.
            logger.warning("kyc face index: a segment of the new manifest could not be mapped yet")
            return
        self._segments = segments
        self._manifest_stamp = stamp
        if manifest["last_id"] != self.last_id:
            self.last_id = manifest["last_id"]
            self.tail.clear(after_id=self.last_id)

    def refresh(self, *, reload_after: float | None = None) -> int:
        """Look at the manifest, then load the faces verified since (the tail); returns how many."""
        with self._lock:
            self._sync()
            return self.tail.refresh(reload_after=reload_after)

    def search(
        self,
        encoding,
        *,
        threshold: float,
        exclude_applicant_id: int | None = None,
        limit: int = 10,
    ) -> list[FaceMatch]:
        """Candidates: exact matches from the tail, then segment faces by float16 distance.

        Segment candidates carry ``applicant_id=0`` and an approximate distance:
        the caller must confirm them with the stored encoding (exact distance,
        the applicant, whether the face still exists).
        """
        query = np.ascontiguousarray(np.asarray(encoding, dtype=np.float32).reshape(1, ENCODING_SIZE))
        with self._lock:
            found = self.tail.search(
                query[0], threshold=threshold, exclude_applicant_id=exclude_applicant_id, limit=limit
            )
            indexes = [index for _name, index in self._segments if index.ntotal]
            radius = threshold + QUANTISATION_MARGIN
            if self.parallel and len(indexes) > 1:
                results = list(_pool().map(lambda index: _segment_search(index, query, radius), indexes))
            else:
                results = [_segment_search(index, query, radius) for index in indexes]
        seen = {match.face_id for match in found}
        for squared, keys in results:
            for key, distance in zip(keys.tolist(), squared.tolist(), strict=True):
                if key >= 0 and key not in seen:
                    seen.add(key)
                    found.append(FaceMatch(key, 0, float(np.sqrt(max(distance, 0.0)))))
        return sorted(found, key=lambda match: match.distance)


def _manifest_matches_database(manifest: dict) -> bool:
    """The manifest's last face is in the database as it was (not a reset or another database)."""
    stamp = manifest.get("last_created_at")
    if not stamp:
        return True  # written without a database (the benchmark)
    created = VerifiedFace.objects.filter(id=manifest["last_id"]).values_list("created_at", flat=True).first()
    return created is not None and created.isoformat() == stamp


@contextlib.contextmanager
def _writer_lock(directory: Path):
    """One writer per machine at a time (a lock file); yields False if another holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "writer.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SegmentWriter:
    """Appends faces (ids ascending) to the segments and publishes a new manifest on ``commit``."""

    def __init__(self, directory: Path, *, segment_size: int) -> None:
        self.directory = directory
        self.segment_size = segment_size
        self.manifest = _manifest_read(directory)
        self._open = None  # the last segment, loaded into memory for appending
        self._open_dirty = False
        self.added = 0
        self.build_seconds = 0.0
        self.trainings = 0

    def _previous_centroids(self) -> np.ndarray | None:
        """The centroids of the last full segment, if it has all its lists (a new segment reuses them)."""
        for entry in reversed(self.manifest["segments"]):
            if entry["file"] and entry.get("nlist") == NLIST_MAX:
                return _segment_centroids(_open_segment(self.directory / entry["file"], view=True))
        return None

    def _open_segment(self, ids: np.ndarray, encodings: np.ndarray):
        """The segment to append to: the last one if it has room, else a new one (trained on these faces)."""
        if self._open is None:
            segments = self.manifest["segments"]
            if segments and segments[-1]["count"] < self.segment_size:
                self._open = _open_segment(self.directory / segments[-1]["file"], view=False)
            else:
                centroids = self._previous_centroids()
                if centroids is None:
                    centroids = self._train(encodings)
                self._open = _new_segment_index(centroids)
                segments.append({"file": "", "count": 0, "last_id": self.manifest["last_id"], "nlist": 0})
        return self._open

    def _train(self, encodings: np.ndarray) -> np.ndarray:
        self.trainings += 1
        return _centroids(encodings, nlist_for(len(encodings)))

    def _grown(self, index):
        """The open segment trained again if it grew fourfold since its centroids were made."""
        if nlist_for(index.ntotal) < 4 * index.nlist:
            return index
        ids, vectors = _segment_contents(index)
        grown = _new_segment_index(self._train(vectors))
        grown.add_with_ids(vectors, ids)
        return grown

    def add(self, ids, encodings) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        encodings = np.ascontiguousarray(np.asarray(encodings, dtype=np.float32).reshape(-1, ENCODING_SIZE))
        start = 0
        while start < len(ids):
            started = time.perf_counter()
            index = self._open_segment(ids[start:], encodings[start : start + self.segment_size])
            room = self.segment_size - index.ntotal
            end = min(len(ids), start + room)
            index.add_with_ids(encodings[start:end], ids[start:end])
            index = self._open = self._grown(index)
            self.build_seconds += time.perf_counter() - started
            entry = self.manifest["segments"][-1]
            entry["count"] = int(index.ntotal)
            entry["nlist"] = int(index.nlist)
            entry["last_id"] = int(ids[end - 1])
            self.manifest["last_id"] = int(ids[end - 1])
            self.added += end - start
            self._open_dirty = True
            if index.ntotal >= self.segment_size:
                self._seal()
            start = end

    def _seal(self) -> None:
        """Write the open segment under a new name (readers keep the old file until they remap)."""
        if self._open is None or not self._open_dirty:
            return
        entry = self.manifest["segments"][-1]
        name = f"faces-{len(self.manifest['segments']):04d}-{entry['last_id']}{SUFFIX}"
        temporary = self.directory / f".{name}.tmp"
        started = time.perf_counter()
        _faiss().write_index(self._open, str(temporary))
        os.replace(temporary, self.directory / name)
        self.build_seconds += time.perf_counter() - started
        entry["file"] = name
        self._open = None
        self._open_dirty = False

    def commit(self) -> None:
        self._seal()
        self.manifest["format"] = FORMAT
        temporary = self.directory / f".{MANIFEST}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.manifest, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / MANIFEST)
        keep = {entry["file"] for entry in self.manifest["segments"]}
        for path in self.directory.iterdir():
            if path.name not in keep and path.suffix in (SUFFIX, ".usearch"):
                path.unlink()  # a worker still mapping it keeps its pages until it remaps


def face_index_update(*, rebuild: bool = False, directory: Path | str | None = None) -> dict:
    """Add the faces verified since the manifest to the segments (``rebuild``: start from nothing).

    Runs in a worker (beat task, ``manage.py kyc_face_index``); one at a time
    per directory, another call returns at once with ``{"skipped": True}``.
    Faces are handed to the writer in batches of up to ``TRAIN_BATCH`` so a
    first segment trains its lists on many faces at once.
    """
    directory = Path(directory or settings.KYC_FACE_INDEX_DIR)
    with _writer_lock(directory) as acquired:
        if not acquired:
            return {"skipped": True}
        if rebuild or not _manifest_usable(_manifest_read(directory)):
            (directory / MANIFEST).unlink(missing_ok=True)
        writer = SegmentWriter(directory, segment_size=settings.KYC_FACE_INDEX_SEGMENT_SIZE)
        rows = (
            VerifiedFace.objects.filter(id__gt=writer.manifest["last_id"])
            .order_by("id")
            .values_list("id", "encoding", "created_at")
        )
        batch: list[tuple[int, bytes]] = []
        for face_id, encoding, created_at in rows.iterator(chunk_size=LOAD_CHUNK):
            batch.append((face_id, encoding))
            writer.manifest["last_created_at"] = created_at.isoformat()
            if len(batch) >= TRAIN_BATCH:
                _writer_add(writer, batch)
                batch = []
        _writer_add(writer, batch)
        if writer.added or rebuild:
            writer.commit()
        result = {
            "added": writer.added,
            "segments": len(writer.manifest["segments"]),
            "last_id": writer.manifest["last_id"],
        }
    logger.info("kyc face index update: %s", result)
    return result


def _writer_add(writer: SegmentWriter, rows: list[tuple[int, bytes]]) -> None:
    if rows:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=ENCODING_DTYPE)
        writer.add(ids, matrix.reshape(len(rows), ENCODING_SIZE))


_index = SharedFaceIndex()


def face_index() -> SharedFaceIndex:
    """This process's view of the shared index (the segments are mapped, not copied)."""
    return _index
