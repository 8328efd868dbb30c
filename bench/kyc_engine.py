"""Face engine throughput: plain face_recognition vs the old engine vs the new one, on the shared photos.

    .venv/bin/python bench/kyc_engine.py [--card-width 1280] [--limit N]

Pairs are (selfie = one photo, KTP = a KTP-like card built from another photo),
every ordered pair of the 12 single-person photos in tests/kyc/data (132
pairs). "Plain" is what a first version would do: face_recognition on the
full-size images (load, face_locations with its default upsampling, largest
KTP face, face_encodings, distance), judged with the same thresholds. "Old" is
the engine before issue 15's second step (dlib's own ResNet, detection on the
1,024 copy: ``encoder="dlib", coarse_side=0``); "new" is the engine as the
settings configure it (numpy ResNet, 512 coarse detection first). All run with
BLAS pinned to one thread; pairs per second per core = pairs / CPU seconds of
this process (all its threads). Prints numbers, asserts nothing.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from kyc import engine  # noqa: E402
from kyc.demo import ktp_card, portrait_crop  # noqa: E402

PEOPLE = ROOT / "tests" / "kyc" / "data" / "people"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def plain_match(selfie_path: Path, ktp_bytes: bytes, config, fr) -> tuple[str, float | None, str | None]:
    selfie = fr.load_image_file(str(selfie_path))
    selfie_faces = fr.face_locations(selfie)
    if len(selfie_faces) != 1:
        return "rejected", None, "no_face_selfie" if not selfie_faces else "many_faces_selfie"
    card = fr.load_image_file(io.BytesIO(ktp_bytes))
    card_faces = fr.face_locations(card)
    if not card_faces:
        return "rejected", None, "no_face_ktp"
    largest = max(card_faces, key=lambda f: (f[2] - f[0]) * (f[1] - f[3]))
    distance = float(
        np.linalg.norm(fr.face_encodings(selfie, selfie_faces)[0] - fr.face_encodings(card, [largest])[0])
    )
    verdict, reason = engine.verdict_for_distance(distance, config=config)
    return str(verdict), distance, reason


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--card-width", type=int, default=1280, help="pixel width of the KTP-like card")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pairs")
    args = parser.parse_args()

    config = engine.EngineConfig.from_settings()
    photos = sorted(PEOPLE.glob("*/*.jpg"))
    print(f"# KYC engine benchmark  ({platform.python_version()}, {load_average()})")
    print(f"photos: {len(photos)}; KTP cards {args.card_width} px wide; thresholds {config.match_threshold}/"
          f"{config.review_threshold}")  # fmt: skip
    cards = {}
    for path in photos:
        with Image.open(path) as image:
            out = io.BytesIO()
            ktp_card(portrait_crop(image.convert("RGB")), width=args.card_width).save(out, "JPEG", quality=90)
            cards[path] = out.getvalue()
    pairs = [(s, k) for s, k in itertools.product(photos, photos) if s != k]
    if args.limit:
        pairs = pairs[: args.limit]
    selfies = {path: path.read_bytes() for path in photos}

    engine.face_models()  # load once, outside the timing
    engines = {
        "new": config,
        "old": dataclasses.replace(config, encoder="dlib", coarse_side=0),
    }
    results, stages, cpu = {}, {}, {}
    for name, engine_config in engines.items():
        results[name], stages[name] = [], []
        started = time.process_time()
        for selfie, card in pairs:
            result = engine.pair_match(selfies[selfie], cards[card], config=engine_config)
            results[name].append((str(result.verdict), result.distance, result.reason))
            stages[name].append(result.timings)
        cpu[name] = time.process_time() - started

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition as fr
    results["plain"] = []
    started = time.process_time()
    for selfie, card in pairs:
        results["plain"].append(plain_match(selfie, cards[card], config, fr))
    cpu["plain"] = time.process_time() - started

    labels = {
        "plain": "plain face_recognition",
        "old": "old (dlib ResNet, 1024)",
        "new": f"new ({config.encoder} ResNet, {config.coarse_side or config.detect_side})",
    }
    print()
    print(f"{'engine':<30}{'pairs':>6}{'CPU s':>9}{'pairs/s/core':>14}{'ms/pair':>9}{'x plain':>9}")
    for name in ("plain", "old", "new"):
        print(f"{labels[name]:<30}{len(pairs):>6}{cpu[name]:>9.1f}{len(pairs) / cpu[name]:>14.2f}"
              f"{cpu[name] / len(pairs) * 1000:>9.0f}{cpu['plain'] / cpu[name]:>9.2f}")  # fmt: skip
    print(f"new vs old: {cpu['old'] / cpu['new']:.2f}x")
    for a, b in (("new", "plain"), ("old", "plain"), ("new", "old")):
        same = sum(x[0] == y[0] for x, y in zip(results[a], results[b], strict=True))
        deltas = [
            abs(x[1] - y[1])
            for x, y in zip(results[a], results[b], strict=True)
            if x[1] is not None and y[1] is not None
        ]
        print(f"same verdict {a} vs {b}: {same}/{len(pairs)}; |distance difference| mean "
              f"{statistics.mean(deltas):.4f}, max {max(deltas):.4f}")  # fmt: skip
    margins = [min(abs(r[1] - config.match_threshold), abs(r[1] - config.review_threshold))
               for r in results["new"] if r[1] is not None]  # fmt: skip
    print(f"new: closest distance to a threshold {min(margins):.4f}")
    for name in ("old", "new"):
        for stage in ("prepare_ms", "quality_ms", "detect_ms", "encode_ms", "total_ms"):
            values = [t.get(stage, 0.0) for t in stages[name]]
            print(
                f"  {name} {stage:<11} mean {statistics.mean(values):7.1f}  p95 {np.percentile(values, 95):7.1f}"
            )
    for name in ("plain", "old", "new"):
        verdicts = {v: sum(r[0] == v for r in results[name]) for v in ("verified", "review", "rejected")}
        print(f"  {name:<6} verdicts {verdicts}")
    for (selfie, card), a, b, c in zip(pairs, results["new"], results["old"], results["plain"], strict=True):
        if not a[0] == b[0] == c[0]:
            print(f"  differs: {selfie.parent.name}/{selfie.name} vs card {card.parent.name}/{card.name}: "
                  f"new {a} old {b} plain {c}")  # fmt: skip
    print(f"# done ({load_average()})")


if __name__ == "__main__":
    main()
