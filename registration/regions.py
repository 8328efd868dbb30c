"""Loading the shipped region tables (provinces, regencies, districts)."""

from __future__ import annotations

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data" / "regions"


def read_rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def regions_load(province_model, regency_model, district_model) -> dict[str, int]:
    """Insert every region that is missing; existing rows keep their names. Idempotent."""
    counts = {}
    for model, name, build in (
        (province_model, "provinces", lambda r: province_model(code=r["code"], name=r["name"])),
        (
            regency_model,
            "regencies",
            lambda r: regency_model(code=r["code"], province_id=r["province_code"], name=r["name"]),
        ),
        (
            district_model,
            "districts",
            lambda r: district_model(code=r["code"], regency_id=r["regency_code"], name=r["name"]),
        ),
    ):
        rows = read_rows(name)
        existing = set(model.objects.values_list("code", flat=True))
        model.objects.bulk_create([build(r) for r in rows if r["code"] not in existing], batch_size=2000)
        counts[name] = len(rows)
    return counts
