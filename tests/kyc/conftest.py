"""Fixtures for the KYC tests: real photographs (tests/kyc/data) and KTP-like cards built from them.

Photos and cards are built once per session; face encodings are cached by the
tests that need several.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

DATA = Path(__file__).resolve().parent / "data"


def photo_file(person: str, number: int = 1) -> Path:
    return DATA / "people" / person / f"{number}.jpg"


def to_jpeg(image: Image.Image, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **({"quality": 90} | params))
    return out.getvalue()


def to_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def photo():
    """``photo("obama", 1)`` -> the JPEG bytes of tests/kyc/data/people/obama/1.jpg."""
    cache: dict[tuple[str, int], bytes] = {}

    def load(person: str, number: int = 1) -> bytes:
        key = (person, number)
        if key not in cache:
            cache[key] = photo_file(person, number).read_bytes()
        return cache[key]

    return load


@pytest.fixture(scope="session")
def photo_image():
    def load(person: str, number: int = 1) -> Image.Image:
        with Image.open(photo_file(person, number)) as image:
            return image.convert("RGB")

    return load


@pytest.fixture(scope="session")
def ktp(photo_image):
    """``ktp("obama", 2)`` -> JPEG bytes of a KTP-like card whose portrait is cut from that photo.

    ``ktp(None)`` is a card without a portrait. Keyword arguments go to ``kyc.demo.ktp_card``.
    """
    from kyc.demo import ktp_card, portrait_crop

    cache: dict[tuple, bytes] = {}

    def build(person: str | None, number: int = 1, **options) -> bytes:
        key = (person, number, tuple(sorted(options.items())))
        if key not in cache:
            portrait = portrait_crop(photo_image(person, number)) if person else None
            cache[key] = to_jpeg(ktp_card(portrait, **options))
        return cache[key]

    return build


@pytest.fixture(scope="session")
def engine_config():
    from kyc.engine import EngineConfig

    return EngineConfig.from_settings()


@pytest.fixture(autouse=True)
def _fresh_face_index(settings, tmp_path):
    """Each test starts with an empty duplicate-face index (its own directory), as a new worker would."""
    from kyc.face_index import face_index

    settings.KYC_FACE_INDEX_DIR = tmp_path / "face_index"
    face_index().clear()
    yield
    face_index().clear()


@pytest.fixture(scope="session")
def encodings(photo):
    """Real selfie encodings, computed once: ``encodings("obama", 1)``."""
    from kyc.engine import EngineConfig, selfie_encode

    cache = {}

    def get(person: str, number: int = 1):
        key = (person, number)
        if key not in cache:
            cache[key] = selfie_encode(photo(person, number), config=EngineConfig())
        return cache[key]

    return get


@pytest.fixture
def fake_engine(monkeypatch):
    """Replace the face comparison with planned results: ``fake_engine.plan(verdict, distance=..., ...)``.

    Uploads still go through the real quick checks; only ``pair_match`` in the worker is faked.
    """
    from kyc import engine

    class Planner:
        def __init__(self):
            self.results = []
            self.calls = 0

        def plan(
            self,
            verdict="verified",
            *,
            distance=0.3,
            reason=None,
            encoding=None,
            failed_image="",
            faces=(1, 1),
        ):
            self.results.append(
                engine.MatchResult(
                    verdict=verdict,
                    reason=reason,
                    distance=distance,
                    faces_selfie=faces[0],
                    faces_ktp=faces[1],
                    failed_image=failed_image,
                    selfie_encoding=encoding,
                    model_version="fake",
                    timings={"total_ms": 1.0},
                )
            )
            return self

        def __call__(self, selfie, ktp, *, config):
            self.calls += 1
            return self.results.pop(0)

    planner = Planner()
    monkeypatch.setattr(engine, "pair_match", planner)
    return planner
