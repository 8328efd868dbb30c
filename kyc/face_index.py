"""Duplicate-face search (1:N) over the selfie encodings of verified applicants.

Exact search, vectorised: each worker process keeps every verified encoding in
one float32 matrix (128 numbers, 512 bytes a face: 1,000,000 faces take
512 MB) with its squared row norms. The matrix is loaded on first use, then
topped up with only the rows added since (``id > last_id``, one indexed query
per search) and reloaded in full every ``KYC_FACE_INDEX_RELOAD_SECONDS`` so
that removed rows disappear. A query is one matrix-vector product,
``|x - q|^2 = |x|^2 - 2 x.q + |q|^2``; being exact, its recall is 1.
``bench/kyc_duplicates.py`` measures it with 1,000,000 encodings.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from kyc.models import ENCODING_DTYPE, ENCODING_SIZE, VerifiedFace

LOAD_CHUNK = 20_000


@dataclass(frozen=True)
class FaceMatch:
    face_id: int
    applicant_id: int
    distance: float


class FaceIndex:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._size = 0
            self._ids = np.empty(0, dtype=np.int64)
            self._applicants = np.empty(0, dtype=np.int64)
            self._matrix = np.empty((0, ENCODING_SIZE), dtype=ENCODING_DTYPE)
            self._norms = np.empty(0, dtype=ENCODING_DTYPE)
            self.last_id = 0
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
                self.clear()
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


_index = FaceIndex()


def face_index() -> FaceIndex:
    """This process's index (one per worker), refreshed by the caller."""
    return _index
