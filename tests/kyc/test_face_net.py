"""The numpy face-recognition network gives dlib's own numbers, and the engine can still use dlib."""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np
import pytest
from PIL import Image

from kyc import engine, face_net
from tests.kyc.conftest import photo_file

# Real photos of different people, poses and sizes (the KTP-sized portrait is upsampled by the engine).
PHOTOS = [("obama", 1), ("rose_leslie", 2), ("kit_harington", 2)]


def models_package():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it imports pkg_resources, which warns
        import face_recognition_models
    return face_recognition_models


@functools.cache
def first_face_chip(person: str, number: int) -> tuple[np.ndarray, np.ndarray]:
    """(dlib's descriptor, the 150x150 chip) of the first face found in a photo."""
    import dlib

    models = engine.face_models()
    with Image.open(photo_file(person, number)) as image:
        pixels = np.asarray(image.convert("RGB"))
    box = models.detector(pixels, 0)[0]
    shape = models.predictor(pixels, box)
    descriptor = np.asarray(models.encoder.compute_face_descriptor(pixels, shape, 1), dtype=np.float64)
    return descriptor, dlib.get_face_chip(pixels, shape, size=face_net.CHIP_SIZE, padding=0.25)


@pytest.mark.parametrize(("person", "number"), PHOTOS)
def test_numpy_network_gives_dlibs_encoding(person, number):
    expected, chip = first_face_chip(person, number)
    encoding = face_net.encode_chip(engine.face_models().net, chip)
    assert encoding.shape == (128,)
    assert np.abs(encoding - expected).max() < 1e-5
    # a real encoding, not zeros: dlib's are about 1.4 long
    assert 1.0 < np.linalg.norm(encoding) < 2.0


def test_a_different_chip_gives_a_different_encoding():
    first, chip = first_face_chip("obama", 1)
    second = face_net.encode_chip(engine.face_models().net, chip[:, ::-1].copy())  # mirrored
    assert np.linalg.norm(second - first) > 0.05


def test_a_chip_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="150x150x3"):
        face_net.encode_chip(engine.face_models().net, np.zeros((100, 100, 3), dtype=np.uint8))


def test_a_model_file_of_another_network_is_refused(tmp_path):
    face_recognition_models = models_package()
    other = tmp_path / "other.dat"
    other.write_bytes(
        open(face_recognition_models.pose_predictor_five_point_model_location(), "rb").read()  # noqa: SIM115
    )
    with pytest.raises(face_net.ModelFileError):
        face_net.load(other)


def test_a_cut_off_model_file_is_refused(tmp_path):
    face_recognition_models = models_package()
    data = open(face_recognition_models.face_recognition_model_location(), "rb").read()  # noqa: SIM115
    for size in (len(data) // 2, len(data) - 1000):
        cut = tmp_path / f"cut-{size}.dat"
        cut.write_bytes(data[:size])
        with pytest.raises(face_net.ModelFileError):
            face_net.load(cut)


def test_engine_falls_back_to_dlib_when_the_model_file_is_another_network(
    monkeypatch, caplog, photo, ktp, engine_config
):
    face_recognition_models = models_package()
    assert engine._face_net_load(face_recognition_models.pose_predictor_five_point_model_location()) is None
    assert "dlib encodes" in caplog.text
    monkeypatch.setattr(engine, "_models", dataclasses.replace(engine.face_models(), net=None))
    result = engine.pair_match(photo("obama", 1), ktp("obama", 2), config=engine_config)
    assert result.verdict == "verified"
    assert result.model_version.endswith("ResNet on dlib")


def test_both_encoders_give_the_same_match(photo, ktp, engine_config):
    dlib_config = dataclasses.replace(engine_config, encoder="dlib")
    for selfie, card in ((photo("obama", 1), ktp("obama", 2)), (photo("biden", 1), ktp("obama", 3))):
        ours = engine.pair_match(selfie, card, config=engine_config)
        theirs = engine.pair_match(selfie, card, config=dlib_config)
        assert ours.verdict == theirs.verdict
        assert np.abs(ours.selfie_encoding - theirs.selfie_encoding).max() < 1e-5
        assert np.abs(ours.ktp_encoding - theirs.ktp_encoding).max() < 1e-5
        assert ours.distance == pytest.approx(theirs.distance, abs=1e-5)
        assert ours.model_version.endswith("ResNet on numpy")
        assert theirs.model_version.endswith("ResNet on dlib")


def test_the_setting_chooses_the_encoder(settings):
    settings.KYC_FACE_ENCODER = "dlib"
    assert engine.EngineConfig.from_settings().encoder == "dlib"
    settings.KYC_FACE_ENCODER = "numpy"
    assert engine.EngineConfig.from_settings().encoder == "numpy"


def test_loading_the_models_pins_blas_to_one_thread():
    from threadpoolctl import threadpool_info

    engine.face_models()
    # numpy's own OpenBLAS, the one the face network multiplies with. faiss (the face index) brings
    # another OpenBLAS of its own, loaded later in a full test run and left to faiss's settings.
    blas = [
        info["num_threads"]
        for info in threadpool_info()
        if info["user_api"] == "blas" and "numpy" in info["filepath"]
    ]
    assert blas
    assert set(blas) == {1}
