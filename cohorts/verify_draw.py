#!/usr/bin/env python3
"""Check a Prakerja wave's draw from its published seed and draw file.

Usage:  python3 verify_draw.py gelombang-3-undian.csv.gz [--seed SEED]

Needs only Python 3.8+ (standard library). It

1. checks that SHA-256(seed) equals the commitment published when the wave opened;
2. recomputes the selection from the file: the eligible applications, each with
   the draw key md5(seed + ":" + token), priority applicants first, then the
   draw key, then the token; at most ``max_per_kk`` per family card (counting the
   participants that card already had), at most each province's quota, at most
   the total quota;
3. compares the result with the file's ``result`` column and prints every line
   that differs.

Exit status 0 when everything matches, 1 when something does not, 2 when the
file cannot be read. Periksa undian: 0 = cocok, 1 = tidak cocok.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import sys
from collections import defaultdict

COLUMNS = ["token", "province", "priority", "kk_group", "kk_prior", "eligible", "result"]


class DrawFileError(Exception):
    pass


def read_draw_file(path: str) -> tuple[dict, list[dict]]:
    """The header (``# key=value`` lines) and the rows of a draw file (.csv or .csv.gz)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DrawFileError("the file is not UTF-8 text") from exc
    return read_draw_file_text(text)


def read_draw_file_text(text: str) -> tuple[dict, list[dict]]:
    header: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].strip().partition("=")
            if sep:
                header[key.strip()] = value.strip()
        elif line:
            body.append(line)
    reader = csv.DictReader(io.StringIO("\n".join(body)))
    if reader.fieldnames != COLUMNS:
        raise DrawFileError(f"unexpected columns {reader.fieldnames}, expected {COLUMNS}")
    rows = list(reader)
    for key in ("seed_commitment", "total_quota", "max_per_kk"):
        if key not in header:
            raise DrawFileError(f"the header has no {key}")
    return header, rows


def recompute(header: dict, rows: list[dict], seed: str) -> set[str]:
    """The tokens the draw selects, computed from the seed and the file alone."""
    max_per_kk = int(header["max_per_kk"])
    total = int(header["total_quota"])
    quotas = {}
    for part in filter(None, header.get("quotas", "").split(";")):
        code, _, quota = part.partition(":")
        quotas[code] = int(quota)

    pool = []
    for row in rows:
        if row["eligible"] != "1":
            continue
        draw_key = hashlib.md5(f"{seed}:{row['token']}".encode()).hexdigest()  # noqa: S324 - not for security
        order = (0 if row["priority"] == "1" else 1, draw_key, row["token"])
        pool.append((order, row))
    pool.sort(key=lambda item: item[0])

    # Family card: at most max_per_kk, counting the card's earlier participants.
    seen_kk: dict[str, int] = defaultdict(int)
    kk_ok = []
    for _order, row in pool:
        group = row["kk_group"]
        if group:
            seen_kk[group] += 1
            if seen_kk[group] + int(row["kk_prior"]) > max_per_kk:
                continue
        kk_ok.append(row)

    # Province quota (a province without a quota is limited only by the total).
    seen_province: dict[str, int] = defaultdict(int)
    province_ok = []
    for row in kk_ok:
        province = row["province"]
        seen_province[province] += 1
        if province in quotas and seen_province[province] > quotas[province]:
            continue
        province_ok.append(row)

    return {row["token"] for row in province_ok[:total]}


def verify(path: str, seed: str | None = None, out=sys.stdout) -> int:
    try:
        header, rows = read_draw_file(path)
    except (OSError, ValueError, DrawFileError) as exc:
        print(f"Cannot read the draw file / Berkas undian tidak dapat dibaca: {exc}", file=out)
        return 2
    seed = seed if seed is not None else header.get("seed", "")
    problems = 0
    commitment = hashlib.sha256(seed.encode()).hexdigest()
    if commitment != header["seed_commitment"]:
        print(
            f"SEED DOES NOT MATCH THE COMMITMENT / benih tidak cocok: sha256(seed) = {commitment}, "
            f"published {header['seed_commitment']}",
            file=out,
        )
        problems += 1
    selected = recompute(header, rows, seed)
    for row in rows:
        expected = "selected" if row["token"] in selected else None
        if row["eligible"] != "1":
            expected = "ineligible"
        elif expected is None:
            expected = "not_selected"
        if row["result"] != expected:
            problems += 1
            if problems <= 20:
                print(f"token {row['token']}: file says {row['result']}, recomputed {expected}", file=out)
    print(f"wave {header.get('wave', '?')}: {len(rows)} applications, {len(selected)} selected", file=out)
    if problems:
        print(f"MISMATCH / TIDAK COCOK: {problems} problem(s)", file=out)
        return 1
    print("MATCH / COCOK: the published result follows from the seed and the file", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify a Prakerja wave draw / Periksa undian gelombang Prakerja"
    )
    parser.add_argument("file", help="draw file (.csv or .csv.gz)")
    parser.add_argument("--seed", help="the revealed seed (default: the one in the file)")
    args = parser.parse_args(argv)
    return verify(args.file, args.seed)


if __name__ == "__main__":
    sys.exit(main())
