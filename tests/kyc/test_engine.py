"""The face engine on real photographs: verdicts, reason codes, damaged and unusual files."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from kyc import engine
from tests.kyc.conftest import DATA, photo_file, to_jpeg, to_png

GROUP = DATA / "groups" / "kit_harington_and_rose_leslie.jpg"
BIG_GROUP = DATA / "groups" / "obama_and_biden_and_another.jpg"


def summary(selfie: bytes, ktp: bytes, config) -> dict:
    return engine.pair_match(selfie, ktp, config=config).summary()


# (person, selfie photo, KTP photo, distance of the engine as configured, of the old
# engine: dlib's own ResNet and detection on the 1,024 copy only). The coarse 512
# detection moves the boxes a little, and with them the distances; the verdicts stay.
SAME_PERSON = [
    ("obama", 1, 2, 0.3445, 0.3598),
    ("rose_leslie", 2, 1, 0.4130, 0.4139),
    ("kit_harington", 1, 3, 0.3546, 0.3522),
    ("biden", 1, 2, 0.3932, 0.4083),
]


@pytest.mark.parametrize(("person", "selfie_number", "ktp_number", "distance", "old_distance"), SAME_PERSON)
def test_same_person_across_photos_is_verified(
    photo, ktp, engine_config, person, selfie_number, ktp_number, distance, old_distance
):
    assert summary(photo(person, selfie_number), ktp(person, ktp_number), engine_config) == {
        "verdict": "verified",
        "distance": pytest.approx(distance, abs=0.003),
        "reason": None,
        "faces_selfie": 1,
        "faces_ktp": 1,
    }


@pytest.mark.parametrize(
    ("person", "selfie_number", "ktp_number", "distance", "old_distance"), [SAME_PERSON[0], SAME_PERSON[3]]
)
def test_old_engine_settings_give_the_old_distances(
    photo, ktp, engine_config, person, selfie_number, ktp_number, distance, old_distance
):
    old = dataclasses.replace(engine_config, encoder="dlib", coarse_side=0)
    result = engine.pair_match(photo(person, selfie_number), ktp(person, ktp_number), config=old)
    assert (result.verdict, result.distance) == ("verified", pytest.approx(old_distance, abs=0.003))


def test_coarse_pass_answers_when_it_finds_a_face(photo, engine_config):
    image = engine.image_prepare(photo("obama", 1), config=engine_config).image
    faces = engine.faces_find(image, config=engine_config)
    assert faces == engine.faces_detect(image, side=512)
    assert len(faces) == 1
    assert faces != engine.faces_detect(image, side=1024)  # the 512 copy's box, not the 1,024 one


def test_portrait_the_coarse_pass_misses_is_found_on_the_larger_copy(ktp, engine_config):
    image = engine.image_prepare(ktp("kit_harington", 2, width=1280), config=engine_config).image
    assert engine.faces_detect(image, side=512) == []
    faces = engine.faces_find(image, config=engine_config)
    assert len(faces) == 1
    assert faces == engine.faces_detect(image, side=1024)


def test_small_second_face_in_a_selfie_is_counted_only_without_the_coarse_pass(
    photo_image, ktp, engine_config
):
    selfie = photo_image("obama", 1)
    # a second person whose face is about 115 of the selfie's 1,137 pixels
    selfie.paste(photo_image("biden", 2).resize((260, 260)), (0, selfie.height - 260))
    data, card = to_jpeg(selfie), ktp("obama", 2)
    assert summary(data, card, engine_config)["verdict"] == "verified"
    without = dataclasses.replace(engine_config, coarse_side=0)
    assert summary(data, card, without) == {
        "verdict": "rejected",
        "distance": None,
        "reason": "many_faces_selfie",
        "faces_selfie": 2,
        "faces_ktp": 0,
    }


@pytest.mark.parametrize(
    ("selfie", "card", "distance"),
    [(("obama", 1), ("biden", 2), 0.8528), (("rose_leslie", 1), ("kit_harington", 2), 0.8300)],
)
def test_different_people_are_rejected(photo, ktp, engine_config, selfie, card, distance):
    assert summary(photo(*selfie), ktp(*card), engine_config) == {
        "verdict": "rejected",
        "distance": pytest.approx(distance, abs=0.003),
        "reason": "mismatch",
        "faces_selfie": 1,
        "faces_ktp": 1,
    }


@pytest.mark.parametrize(("path", "faces"), [(GROUP, 2), (BIG_GROUP, 3)])
def test_group_photo_as_selfie(ktp, engine_config, path, faces):
    result = engine.pair_match(path.read_bytes(), ktp("obama", 2), config=engine_config)
    assert result.summary() == {
        "verdict": "rejected",
        "distance": None,
        "reason": "many_faces_selfie",
        "faces_selfie": faces,
        "faces_ktp": 0,
    }
    assert result.failed_image == "selfie"


def test_landscape_without_a_person_has_no_face(ktp, engine_config):
    with Image.open(BIG_GROUP) as image:
        background = image.convert("RGB").crop((0, 0, 500, 1000))  # flags and stage, nobody in it
    assert summary(to_jpeg(background), ktp("obama", 2), engine_config) == {
        "verdict": "rejected",
        "distance": None,
        "reason": "no_face_selfie",
        "faces_selfie": 0,
        "faces_ktp": 0,
    }


def test_blank_image_has_no_face_rather_than_being_blurred(ktp, engine_config):
    blank = to_jpeg(Image.new("RGB", (800, 600), (255, 255, 255)))
    assert summary(blank, ktp("obama", 2), engine_config)["reason"] == "no_face_selfie"


def test_ktp_without_a_portrait(photo, ktp, engine_config):
    result = engine.pair_match(photo("obama", 1), ktp(None), config=engine_config)
    assert result.summary() == {
        "verdict": "rejected",
        "distance": None,
        "reason": "no_face_ktp",
        "faces_selfie": 1,
        "faces_ktp": 0,
    }
    assert result.failed_image == "ktp"


def test_small_printed_portrait_is_found_and_upsampled(photo, ktp, engine_config):
    # A 640-pixel card: the face on it is about 60 pixels wide, below HOG's window.
    assert summary(photo("obama", 1), ktp("obama", 2, width=640), engine_config) == {
        "verdict": "verified",
        "distance": pytest.approx(0.3821, abs=0.003),
        "reason": None,
        "faces_selfie": 1,
        "faces_ktp": 1,
    }


# --- Damaged and unusual files --------------------------------------------------------


def _reason(selfie: bytes, ktp: bytes, config) -> tuple[str | None, str]:
    result = engine.pair_match(selfie, ktp, config=config)
    return result.reason, result.failed_image


def test_text_file_renamed_jpg(ktp, engine_config, tmp_path):
    fake = tmp_path / "selfie.jpg"
    fake.write_text("Ini bukan foto, hanya teks.\n")
    assert _reason(fake.read_bytes(), ktp("obama", 2), engine_config) == ("not_an_image", "selfie")


def test_truncated_jpeg(photo, ktp, engine_config):
    data = photo("obama", 1)
    assert _reason(data[: len(data) // 2], ktp("obama", 2), engine_config) == ("not_an_image", "selfie")


def test_truncated_jpeg_is_refused_even_after_face_recognition_is_imported(photo, ktp, engine_config):
    # face_recognition switches Pillow's LOAD_TRUNCATED_IMAGES on for the whole process.
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    data = photo("obama", 1)
    assert _reason(ktp("obama", 2), data[: len(data) * 2 // 3], engine_config) == ("not_an_image", "ktp")


def test_empty_file(ktp, engine_config):
    assert _reason(b"", ktp("obama", 2), engine_config) == ("not_an_image", "selfie")


def test_gif_is_not_an_accepted_format(photo_image, ktp, engine_config):
    out = io.BytesIO()
    photo_image("obama", 1).save(out, "GIF")
    assert _reason(out.getvalue(), ktp("obama", 2), engine_config) == ("not_an_image", "selfie")


def test_hundred_megapixel_image_is_refused_before_decoding(ktp, engine_config):
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000), 1).save(out, "PNG")
    assert len(out.getvalue()) < engine_config.max_bytes  # the pixel count, not the file size, refuses it
    assert _reason(out.getvalue(), ktp("obama", 2), engine_config) == ("too_large", "selfie")


def test_file_over_the_byte_limit(photo, ktp, engine_config):
    padded = photo("obama", 1) + b"\0" * engine_config.max_bytes
    assert _reason(ktp("obama", 2), padded, engine_config) == ("too_large", "ktp")


def test_cmyk_jpeg_works(photo_image, ktp, engine_config):
    cmyk = to_jpeg(photo_image("obama", 1).convert("CMYK"))
    assert Image.open(io.BytesIO(cmyk)).mode == "CMYK"
    result = summary(cmyk, ktp("obama", 2), engine_config)
    assert (result["verdict"], result["reason"]) == ("verified", None)
    assert result["distance"] == pytest.approx(0.3445, abs=0.02)


def test_png_with_alpha_is_flattened_on_white(photo_image, ktp, engine_config):
    rgba = photo_image("obama", 1).convert("RGBA")
    mask = Image.new("L", rgba.size, 0)
    ImageDraw.Draw(mask).ellipse((60, 40, rgba.width - 60, rgba.height - 40), fill=255)
    rgba.putalpha(mask)
    data = to_png(rgba)
    prepared = engine.image_prepare(data, config=engine_config)
    assert prepared.image.mode == "RGB"
    assert prepared.image.getpixel((0, 0)) == (255, 255, 255)
    assert summary(data, ktp("obama", 2), engine_config)["verdict"] == "verified"


def test_palette_png_works(photo_image, ktp, engine_config):
    data = to_png(photo_image("obama", 1).convert("P", palette=Image.Palette.ADAPTIVE, colors=256))
    assert summary(data, ktp("obama", 2), engine_config)["verdict"] == "verified"


def test_sixteen_bit_greyscale_png_is_scaled_to_eight_bits(photo_image, ktp, engine_config):
    grey = photo_image("obama", 1).convert("L")
    sixteen = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    assert sixteen.mode == "I;16"
    data = to_png(sixteen)
    prepared = engine.image_prepare(data, config=engine_config)
    assert np.abs(np.asarray(prepared.image.convert("L"), dtype=int) - np.asarray(grey, dtype=int)).max() <= 1
    assert summary(data, ktp("obama", 2), engine_config)["verdict"] == "verified"


def test_exif_rotated_photo_is_turned_upright(photo_image, ktp, engine_config):
    upright = photo_image("obama", 1)
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # how a phone stores a portrait shot
    exif = Image.Exif()
    exif[engine.EXIF_ORIENTATION] = 6  # "rotate 90 degrees clockwise to display"
    rotated = to_jpeg(sideways, exif=exif.tobytes())
    prepared = engine.image_prepare(rotated, config=engine_config)
    assert prepared.image.size == upright.size
    assert prepared.original_size == upright.size
    assert summary(rotated, ktp("obama", 2), engine_config)["verdict"] == "verified"
    # The same pixels without the orientation tag: the detector finds no upright face.
    assert _reason(to_jpeg(sideways), ktp("obama", 2), engine_config) == ("no_face_selfie", "selfie")


def test_heavily_blurred_photo(photo_image, ktp, engine_config):
    image = photo_image("obama", 1)
    blurred = to_jpeg(image.filter(ImageFilter.GaussianBlur(max(image.size) / 200)))
    assert _reason(blurred, ktp("obama", 2), engine_config) == ("blurred", "selfie")


def test_blurred_ktp_photo(photo, ktp, engine_config):
    card = Image.open(io.BytesIO(ktp("obama", 2))).filter(ImageFilter.GaussianBlur(6))
    assert _reason(photo("obama", 1), to_jpeg(card), engine_config) == ("blurred", "ktp")


def test_very_dark_photo(photo_image, ktp, engine_config):
    dark = to_jpeg(ImageEnhance.Brightness(photo_image("obama", 1)).enhance(0.15))
    assert _reason(dark, ktp("obama", 2), engine_config) == ("too_dark", "selfie")


def test_tiny_photo(photo_image, ktp, engine_config):
    small = photo_image("obama", 1)
    small.thumbnail((200, 250))
    assert _reason(to_jpeg(small), ktp("obama", 2), engine_config) == ("too_small", "selfie")


def test_face_too_far_away(photo_image, ktp, engine_config):
    with Image.open(BIG_GROUP) as image:
        scene = image.convert("RGB").crop((0, 0, 600, 450)).resize((800, 600))
    person = photo_image("obama", 1)
    person.thumbnail((200, 250))
    scene.paste(person, (300, 200))  # a face about 55 pixels wide in an 800-pixel picture
    result = engine.pair_match(to_jpeg(scene), ktp("obama", 2), config=engine_config)
    assert (result.reason, result.faces_selfie) == ("too_small", 1)


# --- Engine properties -------------------------------------------------------------------


def test_stored_copy_has_no_metadata(photo_image, engine_config):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[engine.EXIF_ORIENTATION] = 1
    exif.get_ifd(0x8825)[2] = (6.0, 14.0, 0.0)  # GPS latitude
    data = to_jpeg(photo_image("obama", 1), exif=exif.tobytes(), icc_profile=b"\0" * 128, comment=b"secret")
    assert Image.open(io.BytesIO(data)).getexif()
    stored = engine.jpeg_bytes(engine.image_prepare(data, config=engine_config))
    reopened = Image.open(io.BytesIO(stored))
    assert dict(reopened.getexif()) == {}
    assert "icc_profile" not in reopened.info
    assert "comment" not in reopened.info
    assert b"PhoneMaker" not in stored


def test_multi_picture_jpeg_from_a_phone_is_read(photo_image, engine_config):
    out = io.BytesIO()
    first = photo_image("obama", 1)
    first.save(out, "MPO", save_all=True, append_images=[first.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    prepared = engine.image_prepare(out.getvalue(), config=engine_config)
    assert (prepared.source_format, prepared.image.mode, prepared.image.size) == ("MPO", "RGB", first.size)


def test_large_photo_is_decoded_at_a_reduced_size(engine_config):
    big = Image.new("RGB", (6000, 4000), (120, 130, 140))
    prepared = engine.image_prepare(to_jpeg(big), config=engine_config)
    assert prepared.image.size == (2048, 1365)
    assert prepared.original_size == (6000, 4000)


@pytest.mark.parametrize(
    ("distance", "expected"),
    [(0.3, ("verified", None)), (0.45, ("verified", None)), (0.4501, ("review", None)), (0.55, ("review", None)),
     (0.5501, ("rejected", "mismatch"))],
)  # fmt: skip
def test_verdict_bands(engine_config, distance, expected):
    assert engine.verdict_for_distance(distance, config=engine_config) == expected


def test_models_load_once_per_process(photo, ktp, engine_config):
    engine.pair_match(photo("obama", 1), ktp("obama", 2), config=engine_config)
    first = engine.face_models()
    engine.pair_match(photo("biden", 1), ktp("biden", 2), config=engine_config)
    assert engine.face_models() is first
    assert engine.model_loads == 1


def test_every_result_names_the_model_and_its_timings(photo, ktp, engine_config):
    result = engine.pair_match(photo("obama", 1), ktp("obama", 2), config=engine_config)
    assert result.model_name == "dlib_face_recognition_resnet_model_v1"
    assert result.model_version.startswith("engine 1; dlib 20.0.1 HOG + 5-point landmarks")
    assert set(result.timings) == {"prepare_ms", "quality_ms", "detect_ms", "encode_ms", "total_ms"}


def test_kyc_match_command_prints_the_worker_verdict(tmp_path, ktp):
    card = tmp_path / "ktp.jpg"
    card.write_bytes(ktp("obama", 2))
    out = io.StringIO()
    call_command("kyc_match", str(photo_file("obama", 1)), str(card), stdout=out)
    printed = json.loads(out.getvalue())
    assert list(printed) == ["verdict", "distance", "reason", "faces_selfie", "faces_ktp"]
    assert printed == {
        "verdict": "verified",
        "distance": pytest.approx(0.3445, abs=0.003),
        "reason": None,
        "faces_selfie": 1,
        "faces_ktp": 1,
    }


def test_kyc_match_command_with_a_group_photo(tmp_path, ktp):
    card = tmp_path / "ktp.jpg"
    card.write_bytes(ktp("obama", 2))
    out = io.StringIO()
    call_command("kyc_match", str(GROUP), str(card), stdout=out)
    assert json.loads(out.getvalue()) == {
        "verdict": "rejected",
        "distance": None,
        "reason": "many_faces_selfie",
        "faces_selfie": 2,
        "faces_ktp": 0,
    }


def test_thresholds_in_the_wrong_order_fail_at_start_up():
    env = {**os.environ, "KYC_MATCH_THRESHOLD": "0.7", "KYC_REVIEW_THRESHOLD": "0.5"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; settings.KYC_MATCH_THRESHOLD",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "prakerja.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "KYC thresholds must satisfy" in done.stderr
