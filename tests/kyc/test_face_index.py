"""The shared duplicate-face index: memory-mapped segments, the exact tail, updates and restarts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kyc import face_index as face_index_module
from kyc.face_index import MANIFEST, SegmentWriter, SharedFaceIndex, face_index, face_index_update
from kyc.models import VerifiedFace
from kyc.services import kyc_duplicates_find
from tests.kyc.factories import random_encoding, verified_applicant

THRESHOLD = 0.40  # settings.KYC_DUPLICATE_THRESHOLD


def _at_distance(base: np.ndarray, distance: float, seed: int) -> np.ndarray:
    direction = np.random.default_rng(seed).normal(0, 1, 128)
    return (base.astype(np.float64) + direction * distance / np.linalg.norm(direction)).astype(np.float32)


def _brute_force(query, faces: dict[int, np.ndarray]) -> list[int]:
    distances = {
        face_id: float(np.linalg.norm(vector.astype(np.float64) - query.astype(np.float64)))
        for face_id, vector in faces.items()
    }
    return sorted((d, face_id) for face_id, d in distances.items() if d <= THRESHOLD)


def test_segments_give_every_face_within_the_threshold(tmp_path):
    """Candidates from several memory-mapped segments contain every face that exact search finds."""
    rng = np.random.default_rng(5)
    faces = rng.normal(0, 0.047, (3000, 128)).astype(np.float32)
    writer = SegmentWriter(tmp_path, segment_size=1000)
    for start in range(0, 3000, 700):
        writer.add(np.arange(start, min(start + 700, 3000)) + 1, faces[start : start + 700])
    writer.commit()
    index = SharedFaceIndex(tmp_path)
    with index._lock:
        index._sync()
    assert len(index) == 3000
    assert len(list(tmp_path.glob("*.faiss"))) == 3
    for seed, row in enumerate(rng.choice(3000, 40, replace=False)):
        query = _at_distance(faces[row], 0.30 + 0.1 * seed / 40, seed)  # 0.30 to 0.40
        exact = np.linalg.norm(faces.astype(np.float64) - query.astype(np.float64), axis=1)
        expected = {int(i) + 1 for i in np.flatnonzero(exact <= THRESHOLD)}
        assert row + 1 in expected
        candidates = {match.face_id for match in index.search(query, threshold=THRESHOLD)}
        assert expected <= candidates


def test_a_crowd_of_look_alikes_is_found_whole_and_the_margin_covers_float16(tmp_path):
    """Where many faces lie within the threshold of a query (a crowded part of the face space), every
    one of them is a candidate, not only a fixed number of the nearest; a face just inside the
    threshold is a candidate whatever float16 does to it, and one well outside is not."""
    rng = np.random.default_rng(11)
    query = rng.normal(0, 0.047, 128).astype(np.float32)
    crowd = np.stack([_at_distance(query, 0.10 + 0.29 * n / 80, 100 + n) for n in range(80)])  # 0.10-0.39
    edge = _at_distance(query, THRESHOLD - 0.001, 7)
    outside = _at_distance(query, THRESHOLD + 0.05, 8)
    others = rng.normal(0, 0.047, (1500, 128)).astype(np.float32)
    faces = np.concatenate([crowd, [edge, outside], others]).astype(np.float32)
    writer = SegmentWriter(tmp_path, segment_size=10_000)
    writer.add(np.arange(len(faces)) + 1, faces)
    writer.commit()
    index = SharedFaceIndex(tmp_path)
    with index._lock:
        index._sync()
    for _name, segment in index._segments:
        segment.nprobe = segment.nlist  # every list: what is left to test is the candidate rule itself
    candidates = {match.face_id for match in index.search(query, threshold=THRESHOLD)}
    assert set(range(1, 82)) <= candidates  # the crowd (80 faces) and the edge
    assert 82 not in candidates


@pytest.mark.django_db
def test_decision_is_exact_at_the_threshold():
    """A face 0.39 away is a duplicate and one 0.41 away is not, whether it is in a segment or the tail."""
    base = random_encoding(1)
    inside = verified_applicant(_at_distance(base, 0.39, 2))
    verified_applicant(_at_distance(base, 0.41, 3))
    for seed in range(10, 20):
        verified_applicant(random_encoding(seed))
    for stage in ("tail", "segments"):
        if stage == "segments":
            assert face_index_update()["added"] == 12
            face_index().clear()  # a new worker
        found = kyc_duplicates_find(encoding=base, applicant_id=-1)
        assert [(m.applicant_id, round(m.distance, 4)) for m in found] == [(inside.id, 0.39)], stage
        assert len(face_index().tail) == (12 if stage == "tail" else 0)


@pytest.mark.django_db
def test_update_is_incremental_and_survives_a_restart(settings):
    settings.KYC_FACE_INDEX_SEGMENT_SIZE = 4
    directory = settings.KYC_FACE_INDEX_DIR
    faces = {}
    for seed in range(6):
        applicant = verified_applicant(random_encoding(seed))
        faces[VerifiedFace.objects.get(applicant=applicant).id] = random_encoding(seed)
    assert face_index_update() == {"added": 6, "segments": 2, "last_id": max(faces)}
    first_files = {path.name: path.stat().st_mtime_ns for path in directory.glob("*.faiss")}
    assert len(first_files) == 2

    # A worker sees faces verified after the update in its exact tail ...
    worker = face_index()
    worker.refresh()
    for seed in range(6, 9):
        applicant = verified_applicant(random_encoding(seed))
        faces[VerifiedFace.objects.get(applicant=applicant).id] = random_encoding(seed)
    assert worker.refresh() == 3
    assert len(worker) == 9 and len(worker.tail) == 3
    # ... the next update adds only those (the full segment is not rewritten) ...
    assert face_index_update()["added"] == 3
    assert face_index_update()["added"] == 0
    files = {path.name: path.stat().st_mtime_ns for path in directory.glob("*.faiss")}
    sealed = min(first_files)
    assert files[sealed] == first_files[sealed]
    assert len(files) == 3  # the rewritten open segment replaced its old file
    # ... and the worker maps the new manifest and empties its tail.
    assert worker.refresh() == 0
    assert len(worker) == 9 and len(worker.tail) == 0

    # A restarted worker maps the files; nothing is rebuilt or reloaded from the database.
    restarted = SharedFaceIndex()
    assert restarted.refresh() == 0
    assert len(restarted) == 9
    for face_id, vector in faces.items():
        query = _at_distance(vector, 0.2, face_id)
        candidates = {m.face_id for m in restarted.search(query, threshold=THRESHOLD)}
        assert {face_id for _d, face_id in _brute_force(query, faces)} <= candidates

    # A removed face may stay in a segment but is never reported.
    removed_id = min(faces)
    VerifiedFace.objects.filter(id=removed_id).delete()
    assert kyc_duplicates_find(encoding=faces[removed_id], applicant_id=-1) == []

    # --rebuild starts again from the database.
    assert face_index_update(rebuild=True)["added"] == 8
    assert (directory / MANIFEST).exists()


@pytest.mark.django_db
def test_an_index_from_another_database_is_ignored():
    """A database reset under an existing index directory: search exactly, and the next update rebuilds."""
    first = verified_applicant(random_encoding(1))
    face_id = VerifiedFace.objects.get(applicant=first).id
    assert face_index_update()["added"] == 1
    VerifiedFace.objects.filter(applicant=first).delete()
    # The new database gives a new face the same id.
    again = verified_applicant(random_encoding(2))
    VerifiedFace.objects.filter(applicant=again).update(id=face_id)
    found = kyc_duplicates_find(encoding=random_encoding(2), applicant_id=-1)
    assert [m.applicant_id for m in found] == [again.id]
    assert face_index_update() == {"added": 1, "segments": 1, "last_id": face_id}
    face_index().clear()
    found = kyc_duplicates_find(encoding=random_encoding(2), applicant_id=-1)
    assert [m.applicant_id for m in found] == [again.id]
    assert len(face_index().tail) == 0


def _face_like(count: int, seed: int) -> np.ndarray:
    """Vectors with the structure of face encodings (a few dozen main directions, strangers ~0.8 apart)."""
    rng = np.random.default_rng(seed)
    directions = np.random.default_rng(0).normal(0, 1, (24, 128))
    directions /= np.linalg.norm(directions, axis=1)[:, None]
    latent = rng.normal(0, 1, (count, 24)) * np.linspace(1.0, 0.3, 24)
    return (latent @ directions * 0.16 + rng.normal(0, 0.022, (count, 128))).astype(np.float32)


def _search_ids(index: SharedFaceIndex, query) -> set[int]:
    return {match.face_id for match in index.search(query, threshold=THRESHOLD)}


def test_lists_are_trained_as_the_first_segment_grows_and_probed_approximately(tmp_path, monkeypatch):
    """300 faces (one list), then 20,000: trained again on the way; ids and encodings kept; recall.

    A quarter of the lists is probed (as the product probes a sixteenth of 4,096 lists).
    """
    monkeypatch.setattr(face_index_module, "NPROBE", 16)
    faces = _face_like(20_000, seed=3)
    writer = SegmentWriter(tmp_path, segment_size=50_000)
    writer.add(np.arange(300) + 1, faces[:300])
    assert writer.manifest["segments"][0]["nlist"] == 1
    for start in range(300, 20_000, 4_000):
        writer.add(np.arange(start, min(start + 4_000, 20_000)) + 1, faces[start : start + 4_000])
    writer.commit()
    entry = writer.manifest["segments"][0]
    assert entry["count"] == 20_000 and entry["nlist"] == 64 > face_index_module.NPROBE
    assert writer.trainings >= 3
    ids, vectors = face_index_module._segment_contents(
        face_index_module._open_segment(tmp_path / entry["file"], view=False)
    )
    assert ids.tolist() == list(range(1, 20_001))
    assert np.abs(vectors - faces).max() < 1e-3  # float16 codes of the encodings

    index = SharedFaceIndex(tmp_path)
    with index._lock:
        index._sync()
    rng = np.random.default_rng(9)
    planted = 0
    for seed, row in enumerate(rng.choice(20_000, 60, replace=False)):
        query = _at_distance(faces[row], 0.20 + 0.2 * seed / 60, seed)  # 0.20 to 0.40
        exact = np.linalg.norm(faces.astype(np.float64) - query.astype(np.float64), axis=1)
        expected = {int(i) + 1 for i in np.flatnonzero(exact <= THRESHOLD)}
        planted += row + 1 in expected
        assert expected <= _search_ids(index, query)
    assert planted == 60


def test_a_new_segment_reuses_the_lists_of_the_full_one(tmp_path, monkeypatch):
    monkeypatch.setattr(face_index_module, "LIST_SIZE", 16)
    monkeypatch.setattr(face_index_module, "NLIST_MAX", 8)
    faces = _face_like(1_200, seed=4)
    writer = SegmentWriter(tmp_path, segment_size=500)
    writer.add(np.arange(1_200) + 1, faces)
    writer.commit()
    assert [(e["count"], e["nlist"]) for e in writer.manifest["segments"]] == [(500, 8), (500, 8), (200, 8)]
    assert writer.trainings == 1
    centroids = [
        face_index_module._segment_centroids(face_index_module._open_segment(tmp_path / e["file"], view=True))
        for e in writer.manifest["segments"]
    ]
    assert np.array_equal(centroids[0], centroids[1]) and np.array_equal(centroids[0], centroids[2])


def test_segments_searched_in_parallel_give_the_same_candidates(tmp_path):
    faces = _face_like(3_000, seed=5)
    writer = SegmentWriter(tmp_path, segment_size=700)
    writer.add(np.arange(3_000) + 1, faces)
    writer.commit()
    parallel, serial = SharedFaceIndex(tmp_path, parallel=True), SharedFaceIndex(tmp_path)
    for index in (parallel, serial):
        with index._lock:
            index._sync()
    assert len(parallel._segments) == 5
    for seed, row in enumerate(range(0, 3_000, 75)):
        query = _at_distance(faces[row], 0.35, seed)
        assert parallel.search(query, threshold=THRESHOLD) == serial.search(query, threshold=THRESHOLD)
        assert row + 1 in _search_ids(parallel, query)


@pytest.mark.django_db
def test_an_index_of_the_earlier_format_is_ignored_and_rebuilt(settings):
    """The earlier usearch segments: search exactly until the next update rebuilds in the new format."""
    directory = settings.KYC_FACE_INDEX_DIR
    applicant = verified_applicant(random_encoding(1))
    face_id = VerifiedFace.objects.get(applicant=applicant).id
    directory.mkdir(parents=True)
    (directory / "faces-0001-1.usearch").write_bytes(b"old graph")
    old = {"segments": [{"file": "faces-0001-1.usearch", "count": 1, "last_id": face_id}], "last_id": face_id}
    (directory / MANIFEST).write_text(json.dumps(old))
    found = kyc_duplicates_find(encoding=random_encoding(1), applicant_id=-1)
    assert [m.applicant_id for m in found] == [applicant.id]
    assert len(face_index().tail) == 1
    assert face_index_update() == {"added": 1, "segments": 1, "last_id": face_id}
    assert [path.suffix for path in directory.glob("faces-*")] == [".faiss"]
    face_index().clear()
    found = kyc_duplicates_find(encoding=random_encoding(1), applicant_id=-1)
    assert [m.applicant_id for m in found] == [applicant.id]
    assert len(face_index().tail) == 0
