# ruff: noqa: S608 - identifiers come from model metadata; every value is a bound parameter
"""The public draw: a selection anyone can check.

1. When a wave opens (``wave_seed_commit``), its selection seed is chosen at
   random and only ``sha256(seed)`` is published on the wave's public page, so
   nobody can pick a seed after seeing who applied.
2. The selection uses that seed (cohorts/selection.py, draw version 2): each
   application's draw key is ``md5(seed || ':' || token)``, where the token is
   a keyed hash of the applicant (``md5(token_salt || ':' || applicant_id)``;
   the key never leaves the portal, so a token says nothing about who it is).
3. After the announcement the page reveals the seed and offers the draw file:
   one line per application with its token, province, priority flag,
   family-card group token, the participants that family card already had
   from earlier waves, eligibility and the result. ``cohorts/verify_draw.py``
   (Python standard library only, also downloadable from the page) recomputes
   the selection from the seed and the file.

Each applicant sees their own token on the dashboard and can find their line.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from cohorts import selection
from cohorts.enums import ApplicationStatus, WaveStatus
from cohorts.models import Application, Participant, ProvinceQuota, Wave
from prakerja.audit import audit_log
from registration.models import Applicant

FILE_FORMAT = 1
COLUMNS = ("token", "province", "priority", "kk_group", "kk_prior", "eligible", "result")
RESULTS = {
    ApplicationStatus.SELECTED: "selected",
    ApplicationStatus.NOT_SELECTED: "not_selected",
    ApplicationStatus.INELIGIBLE: "ineligible",
}


def seed_commitment_of(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def wave_seed_commit(*, wave: Wave, actor=None) -> bool:
    """Choose the wave's seed and token key and publish the seed's SHA-256. Once per wave; True if done now."""
    if wave.draw_version < 2:
        return False
    seed = secrets.token_hex(16)
    with transaction.atomic():
        committed = Wave.objects.filter(pk=wave.pk, seed_commitment="", selected_at__isnull=True).update(
            committed_seed=seed,
            seed_commitment=seed_commitment_of(seed),
            token_salt=secrets.token_hex(16),
            seed_committed_at=timezone.now(),
        )
        if committed:
            wave.refresh_from_db()
            audit_log(
                actor=actor,
                action="cohorts.seed_committed",
                obj=wave,
                data={"seed_commitment": wave.seed_commitment},
            )
    return bool(committed)


def draw_token(*, wave: Wave, applicant_id: int) -> str:
    """The applicant's token in ``wave``'s draw file (the same value selection.draw_token_sql computes)."""
    return hashlib.md5(f"{wave.token_salt}:{applicant_id}".encode(), usedforsecurity=False).hexdigest()


def draw_is_public(wave: Wave) -> bool:
    """The seed and the file are revealed only once the result is announced."""
    return wave.draw_version >= 2 and wave.announced_at is not None and bool(wave.selection_seed)


def draw_file_name(wave: Wave) -> str:
    return f"draws/gelombang-{wave.number}-undian.csv.gz"


def _header_lines(wave: Wave) -> list[str]:
    quotas = ";".join(
        f"{code}:{quota}"
        for code, quota in ProvinceQuota.objects.filter(wave=wave)
        .order_by("province_id")
        .values_list("province_id", "quota")
    )
    return [
        f"# Prakerja Portal draw file, format {FILE_FORMAT}",
        f"# wave={wave.number}",
        f"# seed_commitment={wave.seed_commitment}",
        f"# seed={wave.selection_seed}",
        f"# total_quota={wave.total_quota}",
        f"# max_per_kk={wave.max_per_kk}",
        f"# quotas={quotas}",
        f"# fingerprint={wave.selection_fingerprint}",
    ]


def _rows_sql() -> str:
    t = {
        "application": Application._meta.db_table,
        "participant": Participant._meta.db_table,
        "applicant": Applicant._meta.db_table,
    }
    # Family cards count the participants they had from other waves, as the selection did.
    return f"""
        WITH kk_existing AS (
            SELECT ap.kk_number, COUNT(*) AS n
            FROM {t["participant"]} pa JOIN {t["applicant"]} ap ON ap.id = pa.applicant_id
            WHERE ap.kk_number <> '' AND pa.wave_id <> %(wave)s
            GROUP BY ap.kk_number
        )
        SELECT {selection.draw_token_sql("a")} AS token, a.province_id,
               CASE WHEN a.is_priority THEN 1 ELSE 0 END,
               CASE WHEN a.kk_number = '' THEN '' ELSE MD5(%(salt)s || ':kk:' || a.kk_number) END,
               COALESCE(e.n, 0), a.status
        FROM {t["application"]} a
        LEFT JOIN kk_existing e ON e.kk_number = a.kk_number AND a.kk_number <> ''
        WHERE a.wave_id = %(wave)s AND a.status IN (%(selected)s, %(not_selected)s, %(ineligible)s)
        ORDER BY token
    """


def draw_file_write(*, wave: Wave, stream) -> int:
    """Write ``wave``'s draw file as CSV text to ``stream``; returns the number of lines written."""
    params = {
        "wave": wave.pk,
        "salt": wave.token_salt,
        "selected": ApplicationStatus.SELECTED,
        "not_selected": ApplicationStatus.NOT_SELECTED,
        "ineligible": ApplicationStatus.INELIGIBLE,
    }
    for line in _header_lines(wave):
        stream.write(line + "\n")
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(_rows_sql(), params)
        while rows := cursor.fetchmany(5000):
            for token, province, priority, kk_group, kk_prior, status in rows:
                eligible = 0 if status == ApplicationStatus.INELIGIBLE else 1
                writer.writerow((token, province, priority, kk_group, kk_prior, eligible, RESULTS[status]))
            count += len(rows)
    return count


@dataclass
class DrawFile:
    name: str
    lines: int
    sha256: str


def draw_file_build(*, wave_id: int) -> DrawFile | None:
    """Write the announced wave's draw file (gzip) to private storage, replacing an earlier one."""
    wave = Wave.objects.filter(pk=wave_id).first()
    if wave is None or not draw_is_public(wave):
        return None
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, io.TextIOWrapper(gz, encoding="utf-8") as text:
        lines = draw_file_write(wave=wave, stream=text)
    content = raw.getvalue()
    name = draw_file_name(wave)
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(content))
    digest = hashlib.sha256(content).hexdigest()
    Wave.objects.filter(pk=wave.pk).update(draw_file_sha256=digest)
    return DrawFile(name=name, lines=lines, sha256=digest)


def waves_public() -> list[Wave]:
    """Waves with a public draw page: every wave that has opened."""
    return list(Wave.objects.exclude(status=WaveStatus.DRAFT).order_by("-number"))
