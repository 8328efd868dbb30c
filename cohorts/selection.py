# ruff: noqa: S608 - identifiers come from model metadata; every value is a bound parameter
"""The selection of a wave, in set-based SQL.

The draw, for a wave and a seed:

1. The pool is the wave's applications that are still eligible: NIK verified
   by the civil registry, KYC verified, not on an exclusion list, not already a
   participant, not blacklisted.
2. Each application gets a draw key: a uniform pseudo-random order that
   depends only on the seed and the person. Since draw version 2 (waves that
   publish a seed commitment when they open) it is ``md5(seed || ':' || token)``
   with the person's public draw token ``md5(token_salt || ':' || applicant_id)``,
   so anyone can recompute the draw from the published draw file (cohorts/draw.py);
   version 1 used ``md5(seed || ':' || applicant_id)``.
3. Within a family card (KK), at most ``max_per_kk`` people may be
   participants (counting participants from earlier waves); within a province,
   at most the province's quota (provinces without a quota row are limited
   only by the total); over everything, at most the total quota. At each of
   these cuts, priority applicants come first, then the draw key, then the
   token (version 1: the applicant id), which cannot tie.

The same wave, pool and seed always give the same selection. The committed
selection records the seed and a fingerprint of its inputs, and
``selection_verify`` recomputes it from them.

The dry run and the committed selection count the three cuts in one pass over the
pool in draw order (``_materialise_in_one_pass``); ``selection_verify`` and
``selection_selected_ids`` compute them set-based (``_ranking_sql``, window
functions). The tests hold the two to the same rows and ranks.

The statements are plain SQL that PostgreSQL and SQLite (3.33+) both run;
``MD5`` on SQLite is the function Django registers on every connection.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

from django.db import connection, transaction

from cohorts.enums import ApplicationStatus
from cohorts.models import Application, Blacklist, Participant, ProvinceQuota, Wave
from kyc.selectors import kyc_verified_applicants_sql
from prakerja.db import tune_for_bulk
from registration.enums import CivilRegistryStatus
from registration.models import Applicant

KYC_VERIFIED_APPLICANTS_SQL, KYC_VERIFIED_PARAMS = kyc_verified_applicants_sql()

# Why an application left the pool, in precedence order: (code, SQL condition on the rows of
# ``_eligibility_from``: a = cohorts_application, ap = registration_applicant, and the applicant's
# participant pa, blacklist entry bl and verified KYC case kv, each NULL when there is none).
INELIGIBLE_CONDITIONS: list[tuple[str, str]] = [
    ("participant", "pa.applicant_id IS NOT NULL"),
    ("blacklisted", "bl.applicant_id IS NOT NULL"),
    ("excluded", "ap.is_excluded"),
    ("frozen", "ap.frozen_at IS NOT NULL"),
    ("kemnaker_pending", "ap.kemnaker_hold"),
    ("nik_not_verified", "ap.civil_status <> %(civil_verified)s"),
    ("kyc_not_verified", "kv.applicant_id IS NULL"),
]


def _tables() -> dict[str, str]:
    return {
        "application": Application._meta.db_table,
        "applicant": Applicant._meta.db_table,
        "participant": Participant._meta.db_table,
        "blacklist": Blacklist._meta.db_table,
        "quota": ProvinceQuota._meta.db_table,
    }


def _base_params(wave: Wave, seed: str) -> dict:
    return {
        "wave": wave.pk,
        "seed": seed,
        "salt": wave.token_salt,
        "max_per_kk": wave.max_per_kk,
        "total": wave.total_quota,
        "pending": ApplicationStatus.PENDING,
        "selected": ApplicationStatus.SELECTED,
        "not_selected": ApplicationStatus.NOT_SELECTED,
        "ineligible": ApplicationStatus.INELIGIBLE,
        "civil_verified": CivilRegistryStatus.VERIFIED,
        **KYC_VERIFIED_PARAMS,
    }


def _eligibility_from() -> str:
    """FROM items for ``_ineligible_case``: each application with its applicant and, by LEFT JOIN, the
    applicant's participant, blacklist entry and verified KYC case.

    Each of the three has at most one row per applicant (unique ``applicant_id``), so every
    application stays one row. Joins instead of an EXISTS per row and rule: PostgreSQL hashes each
    table once instead of probing its index 2,000,000 times (14.5 s -> 6.4 s at 2,000,000).
    """
    t = _tables()
    return f"""
        {t["application"]} a
        JOIN {t["applicant"]} ap ON ap.id = a.applicant_id
        LEFT JOIN {t["participant"]} pa ON pa.applicant_id = a.applicant_id
        LEFT JOIN {t["blacklist"]} bl ON bl.applicant_id = a.applicant_id
        LEFT JOIN ({KYC_VERIFIED_APPLICANTS_SQL}) kv ON kv.applicant_id = a.applicant_id
    """


def _ineligible_case() -> str:
    """A CASE expression giving the first reason an application is ineligible, or NULL (on ``_eligibility_from``)."""
    whens = " ".join(f"WHEN {condition} THEN '{code}'" for code, condition in INELIGIBLE_CONDITIONS)
    return f"CASE {whens} ELSE NULL END"


def _live_pool_sql() -> str:
    """Pending applications that are eligible now, with the applicant's current data."""
    return f"""
        SELECT a.id, a.applicant_id, ap.province_id, ap.kk_number, ap.is_priority
        FROM {_eligibility_from()}
        WHERE a.wave_id = %(wave)s AND a.status = %(pending)s
          AND ap.province_id IS NOT NULL
          AND ({_ineligible_case()}) IS NULL
    """


def _recorded_pool_sql(statuses: str) -> str:
    """Applications in the given statuses, with the snapshot taken when the selection was committed."""
    t = _tables()
    return f"""
        SELECT a.id, a.applicant_id, a.province_id, a.kk_number, a.is_priority
        FROM {t["application"]} a
        WHERE a.wave_id = %(wave)s AND a.status IN ({statuses})
    """


def draw_token_sql(alias: str) -> str:
    """SQL for an application's public draw token (version 2): a keyed hash of the applicant id."""
    return f"MD5(%(salt)s || ':' || CAST({alias}.applicant_id AS TEXT))"


def _bytes(expression: str) -> str:
    """Compare ``expression`` (hex text) byte by byte on PostgreSQL, like Python and cohorts/verify_draw.py.

    For the lowercase hex of MD5 every collation gives the same order; ``"C"`` only makes PostgreSQL
    compare with memcmp (and abbreviated keys) instead of the locale's rules, several times faster.
    SQLite's default collation is already byte order.
    """
    return f'{expression} COLLATE "C"' if connection.vendor == "postgresql" else expression


def _keyed_sql(draw_version: int) -> str:
    """Each pool row with its draw key and tie-breaker (see the module docstring)."""
    if draw_version >= 2:
        return f"""
            SELECT t.*, MD5(%(seed)s || ':' || t.tiebreak) AS draw_key
            FROM (SELECT p.*, {draw_token_sql("p")} AS tiebreak FROM pool p) t
        """
    return """
        SELECT p.*, MD5(%(seed)s || ':' || CAST(p.applicant_id AS TEXT)) AS draw_key,
               p.applicant_id AS tiebreak
        FROM pool p
    """


def _draw_order(alias: str, draw_version: int) -> str:
    """ORDER BY items of the draw order: priority applicants first, then the draw key, then the tie-breaker.

    Priority and draw key are one text key, ``'0'`` (priority) or ``'1'`` followed by the key: the
    key is always 32 hex characters, so this orders exactly like (priority desc, key), and PostgreSQL
    sorts it on abbreviated keys (only a sort's first key is abbreviated: with the priority flag first,
    every comparison of two draw keys was a full text comparison; 2,000,000 rows sorted in about 1 s
    instead of 6-10 s).
    """
    key = f"(CASE WHEN {alias}.is_priority THEN '0' ELSE '1' END || {alias}.draw_key)"
    tiebreak = _bytes(f"{alias}.tiebreak") if draw_version >= 2 else f"{alias}.tiebreak"
    return f"{_bytes(key)}, {tiebreak}"


def _ranking_sql(pool_sql: str, *, draw_version: int, exclude_wave_participants: bool = False) -> str:
    """Rows (id, applicant_id, province_id, is_priority, overall_rank) of the selected applications."""
    t = _tables()
    # Participants from earlier waves count against their KK's limit.
    return f"""
        WITH pool AS ({pool_sql}),
        keyed AS ({_keyed_sql(draw_version)}),
        ordered AS (
            -- The one order every cut uses, computed once: the cuts then sort small integers.
            SELECT k.id, k.applicant_id, k.province_id, k.kk_number, k.is_priority, ROW_NUMBER() OVER (
                ORDER BY {_draw_order("k", draw_version)}
            ) AS position
            FROM keyed k
        ),
        kk_existing AS ({_kk_participants_sql(exclude_wave_participants=exclude_wave_participants)}),
        kk_ranked AS (
            SELECT k.*, ROW_NUMBER() OVER (PARTITION BY {_bytes("k.kk_number")} ORDER BY k.position) AS kk_rank
            FROM ordered k
        ),
        kk_ok AS (
            SELECT r.* FROM kk_ranked r LEFT JOIN kk_existing e ON e.kk_number = r.kk_number
            WHERE r.kk_number = '' OR r.kk_rank + COALESCE(e.n, 0) <= %(max_per_kk)s
        ),
        province_ranked AS (
            SELECT k.*, ROW_NUMBER() OVER (PARTITION BY k.province_id ORDER BY k.position) AS province_rank
            FROM kk_ok k
        ),
        province_ok AS (
            SELECT r.* FROM province_ranked r
            LEFT JOIN {t["quota"]} q ON q.wave_id = %(wave)s AND q.province_id = r.province_id
            WHERE q.id IS NULL OR r.province_rank <= q.quota
        ),
        overall AS (
            SELECT o.id, o.applicant_id, o.province_id, o.is_priority,
                   ROW_NUMBER() OVER (ORDER BY o.position) AS overall_rank
            FROM province_ok o
        )
        SELECT id, applicant_id, province_id, is_priority, overall_rank FROM overall
        WHERE overall_rank <= %(total)s
    """


def _ordered_sql(pool_sql: str, *, draw_version: int) -> str:
    """The pool in draw order (the order every cut of ``_ranking_sql`` uses), for the one-pass cut."""
    return f"""
        WITH pool AS ({pool_sql}),
        keyed AS ({_keyed_sql(draw_version)})
        SELECT k.id, k.province_id, k.kk_number, k.is_priority
        FROM keyed k
        ORDER BY {_draw_order("k", draw_version)}
    """


def _kk_participants_sql(*, exclude_wave_participants: bool, only_pool: bool = False) -> str:
    """Rows (kk_number, n): participants per family card, which count against the card's limit.

    ``exclude_wave_participants``: leave out this wave's own (re-verifying a committed draw);
    ``only_pool``: only the cards in the ``pool`` CTE of the enclosing statement.
    """
    t = _tables()
    wave_filter = "AND pa.wave_id <> %(wave)s" if exclude_wave_participants else ""
    pool_filter = (
        "AND ap.kk_number IN (SELECT p.kk_number FROM pool p WHERE p.kk_number <> '')" if only_pool else ""
    )
    return f"""
        SELECT ap.kk_number, COUNT(*) AS n
        FROM {t["participant"]} pa JOIN {t["applicant"]} ap ON ap.id = pa.applicant_id
        WHERE ap.kk_number <> '' {wave_filter} {pool_filter}
        GROUP BY ap.kk_number
    """


def _kk_existing_sql(pool_sql: str, *, exclude_wave_participants: bool) -> str:
    """Participants (from earlier waves) per family card, for the cards in the pool only."""
    return f"""
        WITH pool AS ({pool_sql})
        {_kk_participants_sql(exclude_wave_participants=exclude_wave_participants, only_pool=True)}
    """


def _fingerprint_sql(pool_sql: str) -> str:
    if connection.vendor == "postgresql":
        aggregate = "STRING_AGG(line, ',' ORDER BY id)"
        source = "lines"
    else:
        aggregate = "GROUP_CONCAT(line, ',')"
        source = "(SELECT * FROM lines ORDER BY id)"
    return f"""
        WITH pool AS ({pool_sql}),
        lines AS (
            SELECT p.id, CAST(p.applicant_id AS TEXT) || ':' || CAST(p.province_id AS TEXT) || ':'
                   || p.kk_number || ':' || (CASE WHEN p.is_priority THEN '1' ELSE '0' END) AS line
            FROM pool p
        )
        SELECT COUNT(*), MD5(COALESCE({aggregate}, '')) FROM {source}
    """


@dataclass
class SelectionResult:
    seed: str
    fingerprint: str
    pool: int
    selected: int
    ineligible: dict[str, int] = field(default_factory=dict)
    provinces: dict[str, dict[str, int]] = field(default_factory=dict)
    priority: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "seed": self.seed,
            "fingerprint": self.fingerprint,
            "pool": self.pool,
            "selected": self.selected,
            "ineligible": self.ineligible,
            "priority": self.priority,
            "provinces": self.provinces,
        }


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fingerprint(wave: Wave, pool_sql: str, params: dict) -> tuple[int, str]:
    (count, pool_hash) = _fetch(_fingerprint_sql(pool_sql), params)[0]
    quotas = ",".join(
        f"{code}:{quota}"
        for code, quota in ProvinceQuota.objects.filter(wave=wave)
        .order_by("province_id")
        .values_list("province_id", "quota")
    )
    raw = f"{pool_hash}|{wave.total_quota}|{wave.max_per_kk}|{quotas}"
    return count, hashlib.sha256(raw.encode()).hexdigest()


RANKED_TABLE = "cohorts_selection_ranked"


def _tune(cursor) -> None:
    """The draw sorts the whole pool: give PostgreSQL room, and no JIT.

    1 GB: the sort of 2,000,000 applications in draw order takes about 300 MB in memory (the
    set-based ``_ranking_sql``, which ``selection_verify`` uses, more); with the default 256 MB it
    went to disk. Only this transaction, once per wave.
    """
    tune_for_bulk(cursor, work_mem="1GB")


def _materialise(ranking_sql: str, params: dict) -> None:
    """Compute the draw once into a temporary table that the summary and the commit read."""
    with connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {RANKED_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {RANKED_TABLE} AS {ranking_sql}", params)


def _cut(rows, *, kk_existing: dict[str, int], max_per_kk: int, quotas: dict, total: int):
    """The three cuts of the draw in one pass over the pool in draw order: yields (row, overall_rank).

    The same rules as ``_ranking_sql`` (and cohorts/verify_draw.py): a family card counts every pool
    row ahead in the order (plus its participants from earlier waves), a province counts the rows
    that passed the family card cut, the total counts the rows that passed both.
    """
    kk_seen: dict[str, int] = {}
    province_seen: dict = {}
    rank = 0
    for row in rows:
        _id, province, kk, _priority = row
        if kk != "":
            n = kk_seen.get(kk)
            n = (kk_existing.get(kk, 0) if n is None else n) + 1
            kk_seen[kk] = n
            if n > max_per_kk:
                continue
        quota = quotas.get(province)
        if quota is not None:
            n = province_seen.get(province, 0) + 1
            province_seen[province] = n
            if n > quota:
                continue
        rank += 1
        if rank > total:
            return
        yield row, rank


def _stream(cursor, size: int = 20_000):
    while rows := cursor.fetchmany(size):
        yield from rows


RANKED_CHUNK = 50_000


def _materialise_in_one_pass(
    wave: Wave, pool_sql: str, params: dict, *, draw_version: int, exclude_wave_participants: bool = False
) -> None:
    """The draw of ``_ranking_sql``, into the same temporary table, with one sort instead of four.

    The database sorts the pool once in draw order (``_draw_order``, the order of ``_ranking_sql``)
    and streams it through a server-side cursor; the three cuts are counted here (``_cut``) and the
    selected rows written to the table ``RANKED_CHUNK`` at a time (COPY on PostgreSQL). The stream
    stops at the last selected row. Measured at 2,000,000: 11-12 s instead of 19-27 s.
    """
    kk_existing = dict(
        _fetch(_kk_existing_sql(pool_sql, exclude_wave_participants=exclude_wave_participants), params)
    )
    quotas = dict(ProvinceQuota.objects.filter(wave=wave).values_list("province_id", "quota"))
    with connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {RANKED_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {RANKED_TABLE} "
            "(id bigint, province_id text, is_priority boolean, overall_rank integer)"
        )
    chunk: list[tuple] = []
    with connection.chunked_cursor() as stream:
        stream.execute(_ordered_sql(pool_sql, draw_version=draw_version), params)
        for (app_id, province, _kk, priority), rank in _cut(
            _stream(stream),
            kk_existing=kk_existing,
            max_per_kk=wave.max_per_kk,
            quotas=quotas,
            total=wave.total_quota,
        ):
            chunk.append((app_id, province, priority, rank))
            if len(chunk) == RANKED_CHUNK:
                _ranked_insert(chunk)
                chunk = []
    _ranked_insert(chunk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Statistics for the plans that read it (the summary, the UPDATE of the results).
            cursor.execute(f"ANALYZE {RANKED_TABLE}")


def _ranked_insert(rows: list[tuple]) -> None:
    """Append (id, province, priority, rank) rows to the ranked table."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(
                f"INSERT INTO {RANKED_TABLE} (id, province_id, is_priority, overall_rank) VALUES (%s, %s, %s, %s)",
                rows,
            )
            return
        # COPY's text format: the values are integers, booleans and province codes (no tab,
        # newline or backslash), so they need no escaping; NULL is \N.
        buffer = io.StringIO()
        for app_id, province, priority, rank in rows:
            code = "\\N" if province is None else province
            buffer.write(f"{int(app_id)}\t{code}\t{'t' if priority else 'f'}\t{int(rank)}\n")
        buffer.seek(0)
        cursor.cursor.copy_expert(
            f"COPY {RANKED_TABLE} (id, province_id, is_priority, overall_rank) FROM STDIN", buffer
        )


def _drop_materialised() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RANKED_TABLE}")


def _summarise(wave: Wave, pool_sql: str, params: dict) -> tuple[dict, dict, int]:
    """Counts per province (pool, selected by group, quota) and per priority group, from the materialised draw."""
    pool_rows = _fetch(
        f"WITH pool AS ({pool_sql}) SELECT province_id, is_priority, COUNT(*) FROM pool GROUP BY province_id, is_priority",
        params,
    )
    selected_rows = _fetch(
        f"SELECT province_id, is_priority, COUNT(*) FROM {RANKED_TABLE} GROUP BY province_id, is_priority", {}
    )
    quotas = dict(ProvinceQuota.objects.filter(wave=wave).values_list("province_id", "quota"))
    provinces: dict[str, dict[str, int]] = {}

    def row(code):
        return provinces.setdefault(
            code,
            {"quota": quotas.get(code), "pool": 0, "pool_priority": 0, "selected": 0, "selected_priority": 0},
        )

    for code, is_priority, n in pool_rows:
        row(code)["pool"] += n
        if is_priority:
            row(code)["pool_priority"] += n
    for code, is_priority, n in selected_rows:
        row(code)["selected"] += n
        if is_priority:
            row(code)["selected_priority"] += n
    selected = sum(p["selected"] for p in provinces.values())
    priority = {
        "pool_priority": sum(p["pool_priority"] for p in provinces.values()),
        "pool_regular": sum(p["pool"] - p["pool_priority"] for p in provinces.values()),
        "selected_priority": sum(p["selected_priority"] for p in provinces.values()),
        "selected_regular": sum(p["selected"] - p["selected_priority"] for p in provinces.values()),
    }
    return dict(sorted(provinces.items())), priority, selected


def _ineligible_counts(params: dict) -> dict[str, int]:
    rows = _fetch(
        f"""
        SELECT reason, COUNT(*) FROM (
            SELECT ({_ineligible_case()}) AS reason
            FROM {_eligibility_from()}
            WHERE a.wave_id = %(wave)s AND a.status = %(pending)s
        ) r WHERE reason IS NOT NULL GROUP BY reason
        """,
        params,
    )
    return dict(sorted(rows))


def selection_compute(*, wave: Wave, seed: str) -> SelectionResult:
    """What the selection would be now; writes nothing (the dry-run job re-applies the lists before it)."""
    params = _base_params(wave, seed)
    pool_sql = _live_pool_sql()
    with transaction.atomic():
        _materialise_in_one_pass(wave, pool_sql, params, draw_version=wave.draw_version)
        try:
            pool, fingerprint = _fingerprint(wave, pool_sql, params)
            provinces, priority, selected = _summarise(wave, pool_sql, params)
            ineligible = _ineligible_counts(params)
        finally:
            _drop_materialised()
    return SelectionResult(
        seed=seed,
        fingerprint=fingerprint,
        pool=pool,
        selected=selected,
        ineligible=ineligible,
        provinces=provinces,
        priority=priority,
    )


def selection_selected_ids(*, wave: Wave, seed: str) -> list[int]:
    """Application ids the draw would select now (for tests and audits)."""
    params = _base_params(wave, seed)
    with transaction.atomic(), connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute(
            f"WITH ranked AS ({_ranking_sql(_live_pool_sql(), draw_version=wave.draw_version)}) "
            "SELECT id FROM ranked ORDER BY id",
            params,
        )
        return [r[0] for r in cursor.fetchall()]


POOL_TABLE = "cohorts_selection_pool"


def _stage_pool(params: dict) -> None:
    """Copy the wave's pending applications once, with the reason each left the pool (or NULL).

    Each row keeps both the snapshot taken when it joined and the applicant's current province,
    KK and priority; ``_snapshot`` picks what the selection records. Nothing in the wave's
    applications is written until the one pass of ``_write_results``. (The reason is computed
    once per row here, and only read afterwards.)
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {POOL_TABLE}")
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE {POOL_TABLE} AS
            SELECT a.id, a.applicant_id, a.province_id, a.kk_number, a.is_priority,
                   ap.province_id AS live_province, ap.kk_number AS live_kk, ap.is_priority AS live_priority,
                   ({_ineligible_case()}) AS reason
            FROM {_eligibility_from()}
            WHERE a.wave_id = %(wave)s AND a.status = %(pending)s
            """,
            params,
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {POOL_TABLE}")


def _snapshot(column: str) -> str:
    """What the selection records in ``column``: the applicant's current value for those still in the
    pool, unless the applicant has no province now; the value from joining for the others."""
    live = {"province_id": "live_province", "kk_number": "live_kk", "is_priority": "live_priority"}[column]
    return f"CASE WHEN p.reason IS NULL AND p.live_province IS NOT NULL THEN p.{live} ELSE p.{column} END"


def _staged_pool_sql() -> str:
    """The applications still in the pool, with the snapshot the selection records."""
    return f"""
        SELECT p.id, p.applicant_id, {_snapshot("province_id")} AS province_id,
               {_snapshot("kk_number")} AS kk_number, {_snapshot("is_priority")} AS is_priority
        FROM {POOL_TABLE} p WHERE p.reason IS NULL
    """


def _write_results(params: dict) -> None:
    """Write every pending application of the wave once: ineligible (with the reason), selected or not.

    One UPDATE of columns no index covers, so with the room the table keeps in each page
    (fillfactor, migration 0006) PostgreSQL rewrites each row in place (HOT): no index is touched.

    The rows must reach the UPDATE in the table's order (the staged pool's), not in draw order:
    in draw order every page of the table was dirtied, evicted and written again about 25 times
    (2,000,000 rows: 1.4 million buffer writes, 31 s; in table order 62,000 writes, 11 s). The
    ranked table has statistics (``_materialise_in_one_pass`` analyses it), so the planner hashes it,
    the smaller side, and reads the pool in order; without them it hashed the pool.
    """
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {t["application"]}
            SET status = CASE WHEN r.reason IS NOT NULL THEN %(ineligible)s
                              WHEN r.overall_rank IS NULL THEN %(not_selected)s
                              ELSE %(selected)s END,
                ineligible_reason = CASE WHEN r.reason IS NOT NULL THEN r.reason
                                         ELSE {t["application"]}.ineligible_reason END,
                province_id = r.province_id, kk_number = r.kk_number, is_priority = r.is_priority,
                draw_rank = r.overall_rank
            FROM (
                SELECT p.id, p.reason, {_snapshot("province_id")} AS province_id,
                       {_snapshot("kk_number")} AS kk_number, {_snapshot("is_priority")} AS is_priority,
                       rk.overall_rank
                FROM {POOL_TABLE} p LEFT JOIN {RANKED_TABLE} rk ON rk.id = p.id
            ) r
            WHERE {t["application"]}.id = r.id
            """,
            params,
        )


def selection_apply(*, wave: Wave, seed: str, progress=lambda percent, stage: None) -> SelectionResult:
    """Commit the draw: mark ineligible, snapshot, selected and not selected. Call inside the wave's transaction.

    The eligibility and the snapshot are staged in a temporary table, the draw is computed
    from it, and each application is then written once.
    """
    params = _base_params(wave, seed)
    t = _tables()
    progress(20, "eligibility")
    with connection.cursor() as cursor:
        _tune(cursor)
    _stage_pool(params)
    try:
        ineligible = dict(
            sorted(
                (reason, n)
                for reason, n in _fetch(
                    f"SELECT reason, COUNT(*) FROM {POOL_TABLE} WHERE reason IS NOT NULL GROUP BY reason", {}
                )
            )
        )
        pool_sql = _staged_pool_sql()
        progress(45, "fingerprint")
        pool, fingerprint = _fingerprint(wave, pool_sql, params)
        progress(55, "draw")
        _materialise_in_one_pass(wave, pool_sql, params, draw_version=wave.draw_version)
        try:
            provinces, priority, selected = _summarise(wave, pool_sql, params)
            progress(75, "commit")
            _write_results(params)
        finally:
            _drop_materialised()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {POOL_TABLE}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Most of the table just changed status: give the announcement's queries a good plan.
            cursor.execute(f"ANALYZE {t['application']}")
    return SelectionResult(
        seed=seed,
        fingerprint=fingerprint,
        pool=pool,
        selected=selected,
        ineligible=ineligible,
        provinces=provinces,
        priority=priority,
    )


def selection_verify(*, wave: Wave) -> dict:
    """Recompute a committed selection from its recorded seed and snapshot; compare with what is stored."""
    params = _base_params(wave, wave.selection_seed)
    recorded_pool = _recorded_pool_sql("%(selected)s, %(not_selected)s")
    ranking_sql = _ranking_sql(recorded_pool, draw_version=wave.draw_version, exclude_wave_participants=True)
    t = _tables()
    with transaction.atomic():
        _count, fingerprint = _fingerprint(wave, recorded_pool, params)
        _materialise(ranking_sql, params)
        try:
            # Selected but not recomputed, or recomputed but not selected: both must be empty.
            (differences,) = _fetch(
                f"""
                SELECT
                  (SELECT COUNT(*) FROM {t["application"]} a
                   WHERE a.wave_id = %(wave)s AND a.status = %(selected)s
                     AND NOT EXISTS (SELECT 1 FROM {RANKED_TABLE} rk WHERE rk.id = a.id))
                + (SELECT COUNT(*) FROM {RANKED_TABLE} rk
                   WHERE NOT EXISTS (SELECT 1 FROM {t["application"]} a WHERE a.id = rk.id AND a.status = %(selected)s))
                """,
                params,
            )[0]
        finally:
            _drop_materialised()
    stored = Application.objects.filter(wave=wave, status=ApplicationStatus.SELECTED).count()
    return {
        "seed": wave.selection_seed,
        "fingerprint_matches": fingerprint == wave.selection_fingerprint,
        "selection_matches": differences == 0,
        "selected": stored,
    }
