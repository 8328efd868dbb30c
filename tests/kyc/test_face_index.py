"""The shared duplicate-face index: memory-mapped segments, the exact tail, updates and restarts."""

from __future__ import annotations

import numpy as np
import pytest

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
    assert len(list(tmp_path.glob("*.usearch"))) == 3
    for seed, row in enumerate(rng.choice(3000, 40, replace=False)):
        query = _at_distance(faces[row], 0.30 + 0.1 * seed / 40, seed)  # 0.30 to 0.40
        exact = np.linalg.norm(faces.astype(np.float64) - query.astype(np.float64), axis=1)
        expected = {int(i) + 1 for i in np.flatnonzero(exact <= THRESHOLD)}
        assert row + 1 in expected
        candidates = {match.face_id for match in index.search(query, threshold=THRESHOLD)}
        assert expected <= candidates


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
    first_files = {path.name: path.stat().st_mtime_ns for path in directory.glob("*.usearch")}
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
    files = {path.name: path.stat().st_mtime_ns for path in directory.glob("*.usearch")}
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
