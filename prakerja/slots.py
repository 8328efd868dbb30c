"""Rendered pages with holes: render once, fill in the per-request parts on every request.

A page that is the same for many requests except for a few values (the CSRF token,
the address the language switch returns to, a location) is rendered once with an
unguessable token in place of each such value, cut at the tokens, and kept as a
list of parts: text, slot name, text, slot name, ..., text. Serving it is one
``join``. The tokens are random per render, so nothing a visitor types (a search
word echoed in the page) can be taken for a slot.

The value put in a slot must already be safe for where the slot is (escaped);
the token itself must survive escaping and URL-encoding unchanged, which letters,
digits, ``-`` and ``.`` do.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from threading import Lock

Parts = tuple[str, ...]


def slot_tokens(names: Iterable[str], *, numeric: Iterable[str] = ()) -> dict[str, str]:
    """A fresh random token per slot name; ``numeric`` slots get one that parses as a small float."""
    numeric = set(numeric)
    tokens = {}
    for name in names:
        if name in numeric:
            tokens[name] = f"-0.{secrets.randbelow(10**15):015d}7"
        else:
            tokens[name] = f"slot{secrets.token_hex(12)}"
    return tokens


def slots_cut(html: str, tokens: Mapping[str, str]) -> Parts:
    """``html`` cut at the tokens: text, slot name, text, ..., text."""
    if not tokens:
        return (html,)
    names = {token: name for name, token in tokens.items()}
    pattern = re.compile("|".join(re.escape(token) for token in tokens.values()))
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(html):
        parts.append(html[position : match.start()])
        parts.append(names[match.group()])
        position = match.end()
    parts.append(html[position:])
    return tuple(parts)


def slots_render(render: Callable[[dict[str, str]], str], names: Iterable[str], **kwargs) -> Parts:
    """Call ``render(tokens)`` and cut what it returns at the tokens."""
    tokens = slot_tokens(names, **kwargs)
    return slots_cut(render(tokens), tokens)


def slots_fill(parts: Parts, values: Mapping[str, str]) -> str:
    """The page with every slot replaced by its value (a KeyError for a slot without one)."""
    if len(parts) == 1:
        return parts[0]
    filled = list(parts)
    for index in range(1, len(filled), 2):
        filled[index] = values[filled[index]]
    return "".join(filled)


class Memo:
    """A small least-recently-used dictionary for one process, safe across threads.

    For values that never go stale under their key (the key names the version of
    what they were made from), so a process can skip even the shared cache.
    """

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
