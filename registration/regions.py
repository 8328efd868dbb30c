"""Loading the shipped region tables (provinces, regencies, districts)."""

from __future__ import annotations

import csv
import threading
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
    regions_cache_clear()
    return counts


# --- Lookups, remembered by each process -------------------------------------------
#
# Every profile form (shown and submitted) needs the province, regency and district
# choices and the NIK's and KK's districts: five to seven queries per request for rows
# that never change at run time (loaded by migrations and ``regions_load``; read-only
# in the console). Each process keeps what it has read. Only rows that exist are
# remembered, so a region added later is found on its first lookup.

_lock = threading.Lock()
_districts: dict[str, object] = {}
_choices: dict[tuple[str, str], list[tuple[str, str]]] = {}


def district_by_code(code: str):
    """The district ``code`` with its regency and province loaded, or None (no query once seen)."""
    from registration.models import District

    if not code:
        return None
    district = _districts.get(code)
    if district is None:
        district = District.objects.select_related("regency__province").filter(code=code).first()
        if district is not None:
            with _lock:
                _districts[code] = district
    return district


def region_choices(level: str, parent: str = "") -> list[tuple[str, str]]:
    """``(code, name)`` of the provinces, or of a province's regencies, or a regency's districts, by name."""
    from registration.models import District, Province, Regency

    key = (level, parent)
    rows = _choices.get(key)
    if rows is None:
        if level == "province":
            queryset = Province.objects.all()
        elif level == "regency":
            queryset = Regency.objects.filter(province_id=parent)
        elif level == "district":
            queryset = District.objects.filter(regency_id=parent)
        else:
            raise ValueError(level)
        rows = list(queryset.order_by("name").values_list("code", "name"))
        if rows:
            with _lock:
                _choices[key] = rows
    return rows


def regions_cache_clear() -> None:
    with _lock:
        _districts.clear()
        _choices.clear()
