"""Row handlers of the one spreadsheet pipeline (``registration.imports``), by job kind.

The pipeline (upload, dry run, confirmation, import in Celery, progress page, row
errors, audit) lives in registration, the lowest app that imports spreadsheets. The
rows of a kind belong to the app that owns them: that app registers a ``RowHandler``
in its ``AppConfig.ready`` and the handler calls the app's own services. So
registration never imports cohorts or marketplace, and a job stores only the kind.

A handler reads rows in batches:

- ``check(rows, errors)`` turns raw rows into items, adding row errors (in the
  officer's language) for what cannot be used; it reads, never writes;
- ``key(item)`` is the item's identity inside one file: a second row with the
  same key is a row error, never a silent overwrite of the first;
- ``apply(items, actor, errors)`` writes checked items through the owning app's
  service and returns counts (``created``, ``updated``, ``unchanged``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RowHandler:
    kind: str
    label: Any  # a lazy translation
    columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    check: Callable[..., list[tuple[int, Any]]]
    key: Callable[[Any], tuple]
    apply: Callable[..., dict[str, int]]
    #: Permissions ("app.codename") needed to upload, confirm or cancel a job of this kind.
    permissions: tuple[str, ...] = ()
    max_rows: int = 100_000
    example: tuple[str, ...] = ()
    notes: Any = ""
    aliases: dict[str, str] = field(default_factory=dict)


HANDLERS: dict[str, RowHandler] = {}


def import_handler_register(handler: RowHandler) -> None:
    """Called from an AppConfig.ready(); registering the same kind twice keeps the last (reloads)."""
    HANDLERS[handler.kind] = handler


def import_handler(kind: str) -> RowHandler | None:
    return HANDLERS.get(kind)
