"""Synthetic face encodings for the duplicate-search benchmarks (no real faces at this scale).

``face_like`` makes 128-number vectors with the shape of dlib encodings of
different people: most of the spread lies in a few dozen directions, strangers
are typically 0.8 apart, and about one pair in 10,000 is a look-alike closer
than 0.45 (so exact search finds strangers under the 0.40 threshold too, as it
does in a real population). Rows are made in blocks of 100,000 from their own
seed, so any block can be made again without storing the matrix.
"""

from __future__ import annotations

import os

import numpy as np

BLOCK = 100_000
LATENT = 24


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _basis() -> tuple[np.ndarray, np.ndarray]:
    directions = np.random.default_rng(7).normal(0, 1, (LATENT, 128)).astype(np.float32)
    directions /= np.linalg.norm(directions, axis=1)[:, None]
    scales = np.linspace(1.0, 0.3, LATENT).astype(np.float32)
    return directions, scales


def face_like_block(block: int, *, seed: int, count: int = BLOCK) -> np.ndarray:
    directions, scales = _basis()
    rng = np.random.default_rng([seed, block])
    latent = rng.normal(0, 1, (count, LATENT)).astype(np.float32) * scales
    return latent @ directions * 0.16 + rng.normal(0, 0.022, (count, 128)).astype(np.float32)


def face_like(count: int, *, seed: int) -> np.ndarray:
    out = np.empty((count, 128), dtype=np.float32)
    for block, start in enumerate(range(0, count, BLOCK)):
        size = min(BLOCK, count - start)
        out[start : start + size] = face_like_block(block, seed=seed, count=BLOCK)[:size]
    return out


def blocks(count: int, *, seed: int):
    """(start, rows) for the first ``count`` rows of ``face_like(count, seed)``, a block at a time."""
    for block, start in enumerate(range(0, count, BLOCK)):
        size = min(BLOCK, count - start)
        yield start, face_like_block(block, seed=seed, count=BLOCK)[:size]


def queries_for(matrix: np.ndarray, count: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Half near-duplicates of stored rows (0.20-0.40 away, the boundary included), half new people."""
    rng = np.random.default_rng(seed)
    planted = count // 2
    rows = rng.choice(len(matrix), size=planted, replace=False)
    noise = rng.normal(0, 1, (planted, 128)).astype(np.float32)
    radius = rng.uniform(0.20, 0.40, planted).astype(np.float32)
    near = np.asarray(matrix[np.sort(rows)], dtype=np.float32)
    near = near + noise * (radius / np.linalg.norm(noise, axis=1))[:, None]
    strangers = face_like_block(10_000_000 + seed, seed=seed, count=BLOCK)[: count - planted]
    return np.concatenate([near, strangers]).astype(np.float32), np.sort(rows)


def exact_truth(source, queries: np.ndarray, threshold: float, count: int | None = None, seed: int = 0):
    """For each query, the set of row numbers within ``threshold`` (float64 distances).

    ``source`` is a matrix, or None to make the rows again with ``blocks(count, seed)``.
    """
    truth: list[set[int]] = [set() for _ in queries]
    q32 = queries.astype(np.float32)
    q_norms = (q32 * q32).sum(axis=1)
    pieces = (
        ((start, source[start : start + BLOCK]) for start in range(0, len(source), BLOCK))
        if source is not None
        else blocks(count, seed=seed)
    )
    for start, rows in pieces:
        # A float32 filter with a wide margin (its error is about 1e-6), then float64 distances.
        rows32 = np.asarray(rows, dtype=np.float32)
        squared = (rows32 * rows32).sum(axis=1)[None, :] - 2.0 * q32 @ rows32.T + q_norms[:, None]
        for qi, ri in zip(*np.nonzero(squared <= (threshold + 0.01) ** 2), strict=True):
            if np.linalg.norm(rows32[ri].astype(np.float64) - queries[qi].astype(np.float64)) <= threshold:
                truth[qi].add(start + int(ri))
    return truth
