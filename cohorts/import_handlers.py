"""Row handler of province quotas for registration's spreadsheet pipeline (see registration.import_registry)."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cohorts.models import Wave
from cohorts.services import MAX_QUOTA, CohortError, wave_quotas_import, wave_rules_frozen
from registration.import_registry import RowHandler, import_handler_register
from registration.imports import Row, RowErrors
from registration.models import Province

PROVINCE_QUOTAS = "province_quotas"


def quota_rows_check(rows: list[Row], errors: RowErrors) -> list[tuple[int, tuple[int, str, int]]]:
    numbers = {row.values.get("wave", "").strip() for row in rows}
    waves = {
        str(wave.number): wave
        for wave in Wave.objects.filter(number__in=[n for n in numbers if n.isdigit() and len(n) < 9])
    }
    codes = {row.values.get("province", "").strip() for row in rows}
    provinces = set(Province.objects.filter(code__in=codes).values_list("code", flat=True))
    items = []
    for row in rows:
        ok = True
        wave = waves.get(row.values.get("wave", "").strip())
        if wave is None:
            errors.add(row.number, "wave", _("No wave has this number."))
            ok = False
        elif wave_rules_frozen(wave):
            errors.add(
                row.number,
                "wave",
                _("The selection of this wave is committed or running: its quotas can no longer change."),
            )
            ok = False
        code = row.values.get("province", "").strip()
        if code not in provinces:
            errors.add(row.number, "province", _("Unknown province code (use the 2-digit code, e.g. 32)."))
            ok = False
        text = row.values.get("quota", "").strip().replace(".", "")
        if not text.isdigit() or int(text) > MAX_QUOTA:
            errors.add(row.number, "quota", _("The quota is a whole number from 0 to 10.000.000."))
            ok = False
        if ok:
            items.append((row.number, (wave.pk, code, int(text))))
    return items


def quota_rows_apply(*, items, actor, errors: RowErrors) -> dict[str, int]:
    by_wave: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for number, (wave_id, code, quota) in items:
        by_wave[wave_id].append((number, code, quota))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for wave_id, rows in by_wave.items():
        wave = Wave.objects.get(pk=wave_id)
        try:
            result = wave_quotas_import(
                wave=wave, quotas={code: quota for _n, code, quota in rows}, actor=actor
            )
        except CohortError as exc:
            for number, _code, _quota in rows:
                errors.add(number, "wave", str(exc))
            continue
        counts["created"] += result["created"]
        counts["updated"] += result["changed"] - result["created"]
        counts["unchanged"] += result["unchanged"]
    return counts


def register() -> None:
    import_handler_register(
        RowHandler(
            kind=PROVINCE_QUOTAS,
            label=pgettext_lazy("import", "Province quotas of a wave"),
            columns=("wave", "province", "quota"),
            key_columns=("wave", "province"),
            check=quota_rows_check,
            key=lambda item: item[:2],
            apply=quota_rows_apply,
            permissions=("cohorts.add_provincequota", "cohorts.change_provincequota"),
            max_rows=10_000,
            example=("3", "32", "15000"),
            notes=_(
                "wave is the wave number, province the 2-digit province code. Provinces not in the file keep "
                "their quota. A wave whose selection is committed cannot change."
            ),
            aliases={"gelombang": "wave", "provinsi": "province", "kuota": "quota"},
        )
    )
