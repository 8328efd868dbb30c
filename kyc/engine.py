"""The face engine: everything between uploaded bytes and a verdict.

Pure computation, no database and no storage. The worker task, the upload form
and ``manage.py kyc_match`` all call it with ``EngineConfig.from_settings()``,
so the command line gives exactly the worker's answer.

For one pair (selfie, KTP photo):

1. prepare: refuse files over ``max_bytes`` before reading them and images
   over ``max_pixels`` before decoding; decode (JPEG straight at a reduced
   scale), apply the EXIF orientation, convert any mode (CMYK, palette, alpha,
   16-bit) to 8-bit RGB and shrink to ``max_side``. ``jpeg_bytes`` re-encodes
   that image without any metadata for storage.
2. quality: too small (the original size), too dark (mean luminance), blurred
   (variance of the Laplacian), measured on a grey copy of ``quality_side``.
3. detect faces with dlib's HOG detector on a copy of ``coarse_side``, then of
   ``detect_side`` if none was found. Selfie: exactly one face. KTP: the largest
   face, looked for again at the full working resolution when the small printed
   portrait is missed.
4. encode (dlib's ResNet, 128 numbers) from the working image: the face region
   is cropped and scaled so the face is about ``ENCODE_FACE_PX`` wide, which
   upsamples the small KTP portrait before the 150x150 chip is cut. The network
   runs as a numpy forward pass (``kyc.face_net``, the same weights and the same
   numbers to about 1e-6, several times faster than this dlib build) unless
   ``encoder`` is ``"dlib"`` (``KYC_FACE_ENCODER``).
5. distance -> verdict: verified <= ``match_threshold`` < review <=
   ``review_threshold`` < rejected (``mismatch``).
"""

from __future__ import annotations

import io
import logging
import math
import struct
import threading
import time
import warnings
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from threadpoolctl import threadpool_limits

from kyc import face_net
from kyc.enums import ImageKind, Reason, Verdict

logger = logging.getLogger(__name__)

ENGINE_VERSION = "1"
MODEL_NAME = "dlib_face_recognition_resnet_model_v1"
# numpy: kyc.face_net on numpy's BLAS; dlib: dlib's own compute_face_descriptor.
ENCODERS = ("numpy", "dlib")
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The encoder cuts a 150x150 chip; faces are brought to about this width first.
ENCODE_FACE_PX = 200
MAX_FACE_UPSAMPLE = 4.0
# Below this spread of grey levels a picture is featureless (a blank page, a
# wall): it is not "blurred", it simply has no face, and detection says so.
FEATURELESS_CONTRAST = 6.0
EXIF_ORIENTATION = 0x0112

_DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    struct.error,
    EOFError,
    IndexError,
)


@dataclass(frozen=True)
class EngineConfig:
    """Limits and thresholds; ``from_settings`` reads the KYC_* settings."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_side: int = 2048
    detect_side: int = 1024
    coarse_side: int = 512  # 0: no coarse pass (see faces_find)
    quality_side: int = 640
    min_side: int = 320
    min_face_px: int = 80
    min_brightness: float = 30.0
    min_sharpness: float = 10.0
    match_threshold: float = 0.45
    review_threshold: float = 0.55
    duplicate_threshold: float = 0.40
    jpeg_quality: int = 90
    encoder: str = "numpy"  # ENCODERS: who runs the ResNet on the face chip

    @classmethod
    def from_settings(cls) -> EngineConfig:
        return cls(
            max_bytes=settings.KYC_MAX_UPLOAD_BYTES,
            max_pixels=settings.KYC_MAX_IMAGE_PIXELS,
            max_side=settings.KYC_IMAGE_MAX_SIDE,
            detect_side=settings.KYC_DETECT_MAX_SIDE,
            coarse_side=settings.KYC_DETECT_COARSE_SIDE,
            min_side=settings.KYC_MIN_IMAGE_SIDE,
            min_face_px=settings.KYC_MIN_FACE_PX,
            min_brightness=settings.KYC_MIN_BRIGHTNESS,
            min_sharpness=settings.KYC_MIN_SHARPNESS,
            match_threshold=settings.KYC_MATCH_THRESHOLD,
            review_threshold=settings.KYC_REVIEW_THRESHOLD,
            duplicate_threshold=settings.KYC_DUPLICATE_THRESHOLD,
            encoder=settings.KYC_FACE_ENCODER,
        )


class ImageRejected(Exception):
    """The file cannot be used at all (``not_an_image`` or ``too_large``)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- Models: loaded once per process -------------------------------------------


@dataclass(frozen=True)
class FaceModels:
    detector: Any
    predictor: Any
    encoder: Any
    net: face_net.FaceNet | None  # None: the model file is not the network face_net implements
    version: str


_models: FaceModels | None = None
_models_lock = threading.Lock()
# dlib objects are not documented as thread-safe; threads of one process (the
# embedded setup runs tasks inside runserver's threads) take turns.
_dlib_lock = threading.RLock()
model_loads = 0  # how many times this process loaded the models (tests read it)


def _load_models() -> FaceModels:
    global model_loads
    # dlib and the face models are heavy native code: loaded once, on first use, not at import.
    import dlib

    with warnings.catch_warnings():
        # face_recognition_models imports pkg_resources, which warns on import.
        warnings.simplefilter("ignore")
        import face_recognition_models
    model_loads += 1
    # The face network's matrix products are small: with a BLAS thread per core they
    # cost several times the CPU (threads spinning, and beside the other worker
    # processes). One thread, for the whole process, from the first model load on.
    threadpool_limits(limits=1, user_api="blas")
    return FaceModels(
        detector=dlib.get_frontal_face_detector(),
        predictor=dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location()),
        encoder=dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location()),
        net=_face_net_load(face_recognition_models.face_recognition_model_location()),
        version=(
            f"engine {ENGINE_VERSION}; dlib {dlib.__version__} HOG + 5-point landmarks; "
            f"face_recognition_models {version('face_recognition_models')}"
        ),
    )


def _face_net_load(path: str) -> face_net.FaceNet | None:
    try:
        return face_net.load(path)
    except face_net.ModelFileError:
        # dlib still reads the file: every face is encoded by dlib, with the same numbers, slower.
        logger.warning(
            "kyc: the face model file is not the network kyc.face_net runs; dlib encodes", exc_info=True
        )
        return None


def face_models() -> FaceModels:
    """The dlib models, loaded on first use and then kept for the life of the process."""
    global _models
    if _models is None:
        with _models_lock:
            if _models is None:
                _models = _load_models()
    return _models


# --- 1. Prepare ----------------------------------------------------------------


@dataclass
class PreparedImage:
    image: Image.Image  # 8-bit RGB, upright, long side <= max_side, no metadata
    original_size: tuple[int, int]  # upright, before shrinking
    source_format: str


def _draft_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The size to ask the JPEG decoder for so the result is still at least ``side`` long."""
    ratio = side / max(width, height)
    return max(1, math.ceil(width * ratio)), max(1, math.ceil(height * ratio))


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode != "F" or values.max(initial=0) > 255:
            values = values / 257.0  # 16-bit samples to 8-bit
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if mode == "RGB":
        return image
    return image.convert("RGB")


def image_prepare(data: bytes, *, config: EngineConfig) -> PreparedImage:
    """Decode an uploaded file into a clean upright RGB image, or raise ImageRejected."""
    if len(data) > config.max_bytes:
        raise ImageRejected(Reason.TOO_LARGE, f"{len(data)} bytes")
    if not data:
        raise ImageRejected(Reason.NOT_AN_IMAGE, "empty file")
    # face_recognition switches this on globally when imported; a cut-off file
    # must be refused, not padded with grey.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
            width, height = image.size
            if width * height > config.max_pixels:
                raise ImageRejected(Reason.TOO_LARGE, f"{width}x{height} pixels")
            orientation = image.getexif().get(EXIF_ORIENTATION, 1)
            source_format = image.format or ""
            if source_format in ("JPEG", "MPO"):
                image.draft("RGB", _draft_size(width, height, config.max_side))
            image.load()
            image = ImageOps.exif_transpose(image) or image
            image = _to_rgb(image)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(Reason.TOO_LARGE, exc.__class__.__name__) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected(Reason.NOT_AN_IMAGE, exc.__class__.__name__) from exc
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if max(image.size) > config.max_side:
        ratio = config.max_side / max(image.size)
        size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
        image = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    image.info = {}
    return PreparedImage(image=image, original_size=(width, height), source_format=source_format)


def jpeg_bytes(prepared: PreparedImage, *, quality: int = 90) -> bytes:
    """The prepared image as a JPEG without EXIF, GPS, ICC or comments (what is stored)."""
    out = io.BytesIO()
    prepared.image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


# --- 2. Quality ----------------------------------------------------------------


@dataclass(frozen=True)
class Quality:
    width: int
    height: int
    brightness: float  # mean luminance, 0-255
    contrast: float  # standard deviation of the luminance
    sharpness: float  # variance of the Laplacian at quality_side

    def as_dict(self) -> dict[str, float]:
        return {
            "width": self.width,
            "height": self.height,
            "brightness": round(self.brightness, 1),
            "contrast": round(self.contrast, 1),
            "sharpness": round(self.sharpness, 1),
        }


def image_quality(prepared: PreparedImage, *, config: EngineConfig) -> Quality:
    grey = prepared.image.convert("L")
    if max(grey.size) > config.quality_side:
        ratio = config.quality_side / max(grey.size)
        size = (max(1, round(grey.width * ratio)), max(1, round(grey.height * ratio)))
        grey = grey.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    values = np.asarray(grey, dtype=np.float32)
    if values.shape[0] < 3 or values.shape[1] < 3:
        sharpness = 0.0
    else:
        laplacian = (
            values[1:-1, 2:]
            + values[1:-1, :-2]
            + values[2:, 1:-1]
            + values[:-2, 1:-1]
            - 4 * values[1:-1, 1:-1]
        )
        sharpness = float(laplacian.var())
    width, height = prepared.original_size
    return Quality(
        width=width,
        height=height,
        brightness=float(values.mean()),
        contrast=float(values.std()),
        sharpness=sharpness,
    )


def quality_problem(quality: Quality, *, config: EngineConfig) -> str | None:
    """The first quality problem (checked in this order), or None."""
    if min(quality.width, quality.height) < config.min_side:
        return Reason.TOO_SMALL
    if quality.brightness < config.min_brightness:
        return Reason.TOO_DARK
    if quality.sharpness < config.min_sharpness and quality.contrast >= FEATURELESS_CONTRAST:
        return Reason.BLURRED
    return None


# --- 3. Detect, 4. encode --------------------------------------------------------

Box = tuple[float, float, float, float]  # left, top, right, bottom in working-image pixels


def faces_detect(image: Image.Image, *, side: int, upsample: int = 0) -> list[Box]:
    """Faces found on a copy whose long side is at most ``side``, largest first."""
    ratio = min(1.0, side / max(image.size))
    small = image
    if ratio < 1.0:
        size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
        small = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(small)
    models = face_models()
    with _dlib_lock:
        found = models.detector(pixels, upsample)
    boxes = [(r.left() / ratio, r.top() / ratio, r.right() / ratio, r.bottom() / ratio) for r in found]
    return sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)


def face_width(box: Box) -> float:
    return box[2] - box[0]


def face_encode(image: Image.Image, box: Box, *, encoder: str = "numpy") -> np.ndarray:
    """The 128-number encoding of the face in ``box``, from a crop scaled to ENCODE_FACE_PX.

    ``encoder`` "numpy" cuts the same 150x150 chip dlib's ``compute_face_descriptor`` cuts
    (5-point landmarks, padding 0.25) and runs the network in ``kyc.face_net``; "dlib"
    lets dlib do both.
    """
    # dlib and the face models are heavy native code: loaded once, on first use, not at import.
    import dlib

    left, top, right, bottom = box
    width = max(right - left, 1.0)
    margin = width * 0.8
    crop_box = (
        max(0, int(left - margin)),
        max(0, int(top - margin)),
        min(image.width, int(math.ceil(right + margin))),
        min(image.height, int(math.ceil(bottom + margin))),
    )
    crop = image.crop(crop_box)
    scale = min(MAX_FACE_UPSAMPLE, ENCODE_FACE_PX / width)
    if abs(scale - 1.0) > 0.05:
        size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
        crop = crop.resize(size, Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BILINEAR)
    else:
        scale = 1.0
    pixels = np.asarray(crop)
    rect = dlib.rectangle(
        round((left - crop_box[0]) * scale),
        round((top - crop_box[1]) * scale),
        round((right - crop_box[0]) * scale),
        round((bottom - crop_box[1]) * scale),
    )
    models = face_models()
    if encoder == "dlib" or models.net is None:
        with _dlib_lock:
            shape = models.predictor(pixels, rect)
            descriptor = models.encoder.compute_face_descriptor(pixels, shape, 1)
        return np.asarray(descriptor, dtype=np.float64)
    with _dlib_lock:
        shape = models.predictor(pixels, rect)
        chip = dlib.get_face_chip(pixels, shape, size=face_net.CHIP_SIZE, padding=0.25)
    return face_net.encode_chip(models.net, chip)


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


# --- 5. The pair ----------------------------------------------------------------


@dataclass
class MatchResult:
    verdict: str
    reason: str | None = None
    distance: float | None = None
    faces_selfie: int = 0
    faces_ktp: int = 0
    failed_image: str = ""  # ImageKind of the photo the reason is about
    selfie_encoding: np.ndarray | None = None
    ktp_encoding: np.ndarray | None = None
    selfie_quality: dict = field(default_factory=dict)
    ktp_quality: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds
    model_name: str = MODEL_NAME
    model_version: str = ""

    def summary(self) -> dict[str, Any]:
        """The stable JSON shape printed by ``manage.py kyc_match``."""
        return {
            "verdict": str(self.verdict),
            "distance": None if self.distance is None else round(self.distance, 4),
            "reason": None if self.reason is None else str(self.reason),
            "faces_selfie": self.faces_selfie,
            "faces_ktp": self.faces_ktp,
        }


def verdict_for_distance(distance: float, *, config: EngineConfig) -> tuple[str, str | None]:
    if distance <= config.match_threshold:
        return Verdict.VERIFIED, None
    if distance <= config.review_threshold:
        return Verdict.REVIEW, None
    return Verdict.REJECTED, Reason.MISMATCH


class _Clock:
    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.started = self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + (now - self.last) * 1000, 1)
        self.last = now

    def stop(self) -> None:
        self.timings["total_ms"] = round((time.perf_counter() - self.started) * 1000, 1)


def faces_find(image: Image.Image, *, config: EngineConfig) -> list[Box]:
    """Faces on a working image, largest first: a fast pass, then a thorough one if it found nothing.

    The fast pass sees faces of at least 80 pixels on a ``detect_side`` copy (about 8% of
    the long side). When it finds nothing, the whole working image is searched, upsampled
    once if it is small: that finds the small portrait printed on a KTP, and tells a face
    that is too far away from no face at all.

    With ``coarse_side`` (smaller than ``detect_side``), a pass on a copy of that size
    comes first and its faces are the answer when it finds any: a quarter of the
    detector's work at 512. It sees only faces at least 80 pixels wide on that copy (about
    16% of the long side at 512), so a second, smaller face in a selfie is not counted
    and the boxes are those of the smaller copy (distances move by up to about 0.01 on the
    shared photos, every verdict the same: ``bench/kyc_engine.py``). When it finds no
    face, the ``detect_side`` pass runs as before.
    """
    if 0 < config.coarse_side < config.detect_side and max(image.size) > config.coarse_side:
        faces = faces_detect(image, side=config.coarse_side)
        if faces:
            return faces
    faces = faces_detect(image, side=config.detect_side)
    if not faces:
        small = max(image.size) <= config.detect_side
        faces = faces_detect(image, side=config.max_side, upsample=1 if small else 0)
    return faces


def pair_match(selfie: bytes, ktp: bytes, *, config: EngineConfig) -> MatchResult:
    """Compare a selfie with a KTP photo: the verdict, the distance and, on failure, why."""
    models = face_models()
    encoder = config.encoder if models.net is not None else "dlib"
    result = MatchResult(verdict=Verdict.REJECTED, model_version=f"{models.version}; ResNet on {encoder}")
    clock = _Clock(result.timings)
    try:
        return _pair_match(selfie, ktp, config=config, result=result, clock=clock)
    finally:
        clock.stop()


def _pair_match(
    selfie_data: bytes, ktp_data: bytes, *, config: EngineConfig, result: MatchResult, clock: _Clock
) -> MatchResult:
    def fail(reason: str, image: str) -> MatchResult:
        result.verdict, result.reason, result.failed_image = Verdict.REJECTED, reason, image
        return result

    prepared = {}
    for kind, data in ((ImageKind.SELFIE, selfie_data), (ImageKind.KTP, ktp_data)):
        try:
            prepared[kind] = image_prepare(data, config=config)
        except ImageRejected as exc:
            clock.lap("prepare_ms")
            return fail(exc.reason, kind)
    clock.lap("prepare_ms")

    for kind in (ImageKind.SELFIE, ImageKind.KTP):
        quality = image_quality(prepared[kind], config=config)
        setattr(result, f"{kind}_quality", quality.as_dict())
        problem = quality_problem(quality, config=config)
        if problem:
            clock.lap("quality_ms")
            return fail(problem, kind)
    clock.lap("quality_ms")

    selfie, ktp = prepared[ImageKind.SELFIE].image, prepared[ImageKind.KTP].image
    selfie_faces = faces_find(selfie, config=config)
    result.faces_selfie = len(selfie_faces)
    if not selfie_faces:
        clock.lap("detect_ms")
        return fail(Reason.NO_FACE_SELFIE, ImageKind.SELFIE)
    if len(selfie_faces) > 1:
        clock.lap("detect_ms")
        return fail(Reason.MANY_FACES_SELFIE, ImageKind.SELFIE)
    if face_width(selfie_faces[0]) < config.min_face_px:
        clock.lap("detect_ms")
        return fail(Reason.TOO_SMALL, ImageKind.SELFIE)
    ktp_faces = faces_find(ktp, config=config)
    result.faces_ktp = len(ktp_faces)
    clock.lap("detect_ms")
    if not ktp_faces:
        return fail(Reason.NO_FACE_KTP, ImageKind.KTP)

    result.selfie_encoding = face_encode(selfie, selfie_faces[0], encoder=config.encoder)
    result.ktp_encoding = face_encode(ktp, ktp_faces[0], encoder=config.encoder)
    result.distance = face_distance(result.selfie_encoding, result.ktp_encoding)
    clock.lap("encode_ms")
    result.verdict, result.reason = verdict_for_distance(result.distance, config=config)
    return result


def selfie_encode(data: bytes, *, config: EngineConfig) -> np.ndarray | None:
    """The encoding of the single face in a selfie, or None (demo data and tools)."""
    prepared = image_prepare(data, config=config)
    faces = faces_find(prepared.image, config=config)
    return face_encode(prepared.image, faces[0], encoder=config.encoder) if len(faces) == 1 else None
