"""Duplicate-face search (1:N) over the selfie encodings of verified applicants.

Two parts, searched together by ``SharedFaceIndex``:

* Segments on disk (``KYC_FACE_INDEX_DIR``): usearch HNSW graphs of the
  encodings in half precision (float16), at most ``KYC_FACE_INDEX_SEGMENT_SIZE`` faces
  each, listed with the highest face id they cover in ``manifest.json``.
  Every worker process memory-maps them read-only (``view=True``), so the
  operating system keeps one copy in its page cache for all the workers of a
  machine. ``face_index_update`` (a beat task and ``manage.py kyc_face_index``)
  appends the faces verified since the manifest's ``last_id`` to the newest
  segment (or starts a new one), writes it under a new name and replaces the
  manifest atomically; workers notice the new manifest on their next search.
  Nothing is rebuilt on a restart: the files are simply mapped again.
* The tail: faces newer than the manifest, kept by each worker in an exact
  float32 matrix (``FaceIndex``) and topped up with one indexed query per
  search (``id > last_id``).

The segments give candidates (the nearest ``SEGMENT_CANDIDATES`` of each by
the quantised distance, within a safety margin of the threshold); the caller
confirms every candidate with the exact float64 distance of the stored
encoding (``kyc_duplicates_find`` reads them from the database), so the
decision at the threshold is exact and a removed face is never reported.
``bench/kyc_duplicates.py`` measures it, ``bench/kyc_ann_compare.py`` compares
libraries.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from kyc.models import ENCODING_DTYPE, ENCODING_SIZE, VerifiedFace

logger = logging.getLogger(__name__)

LOAD_CHUNK = 20_000
MANIFEST = "manifest.json"
# HNSW parameters: 16 links a node, 64 candidates while building, 256 while searching
# (64 gave recall 0.976 of exact search at 300,000 faces, bench/README.md).
CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 256
# Nearest faces taken from each segment, and how far past the threshold (in
# distance) a quantised candidate may be and still be checked exactly.
SEGMENT_CANDIDATES = 32
QUANTISATION_MARGIN = 0.10


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


def _new_usearch_index():
    from usearch.index import Index  # native code: loaded on first use, not at import

    return Index(
        ndim=ENCODING_SIZE,
        metric="l2sq",
        # Half precision: 256 bytes a face and distances within about 0.001 of
        # float32. (usearch's int8 scales every vector to length 1, which is
        # right for cosine search but distorts these Euclidean distances.)
        dtype="f16",
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


def _open_segment(path: Path, *, view: bool):
    index = _new_usearch_index()
    if view:
        index.view(str(path))  # memory-mapped, read-only, shared through the page cache
    else:
        index.load(str(path))
    return index


def _manifest_read(directory: Path) -> dict:
    try:
        with open(directory / MANIFEST, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"segments": [], "last_id": 0}


class SharedFaceIndex:
    """The memory-mapped segments plus this process's exact tail; see the module docstring."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self._directory = Path(directory) if directory is not None else None
        self._lock = threading.RLock()
        self.tail = FaceIndex()
        self.clear()

    @property
    def directory(self) -> Path:
        return self._directory or Path(settings.KYC_FACE_INDEX_DIR)

    def clear(self) -> None:
        """Forget the mapped segments and the tail, as a new worker process would start."""
        with self._lock:
            self._manifest_stamp: tuple | None = None
            self._segments: list = []  # (file name, usearch index view)
            self.last_id = 0
            self.tail.clear()

    def __len__(self) -> int:
        return sum(len(index) for _name, index in self._segments) + len(self.tail)

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
        if not _manifest_matches_database(manifest):
            logger.warning("kyc face index: %s is not from this database; searching exactly", self.directory)
            manifest = {"segments": [], "last_id": 0}
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
        """Candidates: exact matches from the tail, then segment faces by quantised distance.

        Segment candidates carry ``applicant_id=0`` and an approximate distance:
        the caller must confirm them with the stored encoding (exact distance,
        the applicant, whether the face still exists).
        """
        query = np.asarray(encoding, dtype=np.float32).reshape(ENCODING_SIZE)
        with self._lock:
            found = self.tail.search(
                query, threshold=threshold, exclude_applicant_id=exclude_applicant_id, limit=limit
            )
            seen = {match.face_id for match in found}
            bound = (threshold + QUANTISATION_MARGIN) ** 2
            for _name, index in self._segments:
                if not len(index):
                    continue
                result = index.search(query, SEGMENT_CANDIDATES, threads=1)
                for key, squared in zip(result.keys, result.distances, strict=True):
                    if squared <= bound and int(key) not in seen:
                        seen.add(int(key))
                        approximate = float(np.sqrt(max(squared, 0.0)))
                        found.append(FaceMatch(int(key), 0, approximate))
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

    def _open_segment(self):
        if self._open is None:
            segments = self.manifest["segments"]
            if segments and segments[-1]["count"] < self.segment_size:
                self._open = _open_segment(self.directory / segments[-1]["file"], view=False)
            else:
                self._open = _new_usearch_index()
                segments.append({"file": "", "count": 0, "last_id": self.manifest["last_id"]})
        return self._open

    def add(self, ids, encodings) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        encodings = np.asarray(encodings, dtype=np.float32).reshape(-1, ENCODING_SIZE)
        start = 0
        while start < len(ids):
            index = self._open_segment()
            room = self.segment_size - len(index)
            end = min(len(ids), start + room)
            started = time.perf_counter()
            index.add(ids[start:end].astype(np.uint64), encodings[start:end], threads=1)
            self.build_seconds += time.perf_counter() - started
            entry = self.manifest["segments"][-1]
            entry["count"] = len(index)
            entry["last_id"] = int(ids[end - 1])
            self.manifest["last_id"] = int(ids[end - 1])
            self.added += end - start
            self._open_dirty = True
            if len(index) >= self.segment_size:
                self._seal()
            start = end

    def _seal(self) -> None:
        """Write the open segment under a new name (readers keep the old file until they remap)."""
        if self._open is None or not self._open_dirty:
            return
        entry = self.manifest["segments"][-1]
        name = f"faces-{len(self.manifest['segments']):04d}-{entry['last_id']}.usearch"
        temporary = self.directory / f".{name}.tmp"
        self._open.save(str(temporary))
        os.replace(temporary, self.directory / name)
        entry["file"] = name
        self._open = None
        self._open_dirty = False

    def commit(self) -> None:
        self._seal()
        temporary = self.directory / f".{MANIFEST}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.manifest, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / MANIFEST)
        keep = {entry["file"] for entry in self.manifest["segments"]} | {MANIFEST, "writer.lock"}
        for path in self.directory.iterdir():
            if path.name not in keep and path.suffix == ".usearch":
                path.unlink()  # a worker still mapping it keeps its pages until it remaps


def face_index_update(*, rebuild: bool = False, directory: Path | str | None = None) -> dict:
    """Add the faces verified since the manifest to the segments (``rebuild``: start from nothing).

    Runs in a worker (beat task, ``manage.py kyc_face_index``); one at a time
    per directory, another call returns at once with ``{"skipped": True}``.
    """
    directory = Path(directory or settings.KYC_FACE_INDEX_DIR)
    with _writer_lock(directory) as acquired:
        if not acquired:
            return {"skipped": True}
        if rebuild or not _manifest_matches_database(_manifest_read(directory)):
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
            if len(batch) >= LOAD_CHUNK:
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
