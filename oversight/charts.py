"""Server-rendered SVG bar charts: no JavaScript, no external assets, readable by screen readers
(each chart has a title and the same numbers as a table beside it)."""

from __future__ import annotations

import hashlib

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

ROW = 26
LABEL_WIDTH = 250
BAR_WIDTH = 260


def _number(value: int | None) -> str:
    return "<10" if value is None else f"{value:,}".replace(",", ".")


def _chart_id(title: str) -> str:
    return "chart-" + hashlib.md5(title.encode(), usedforsecurity=False).hexdigest()[:8]


def bar_chart(items: list[tuple[str, int | None]], *, title: str) -> SafeString:
    """Horizontal bars, one per (label, value); None is a suppressed cell (drawn empty, labelled <10)."""
    top = max([value or 0 for _label, value in items] + [1])
    height = ROW * max(len(items), 1) + 8
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="{}" y="17" text-anchor="end" class="chart-label">{}</text>'
        '<rect x="{}" y="4" width="{}" height="18" class="chart-bar"></rect>'
        '<text x="{}" y="17" class="chart-value">{}</text></g>',
        (
            (
                index * ROW,
                LABEL_WIDTH - 6,
                label if len(label) <= 36 else label[:35] + "…",
                LABEL_WIDTH,
                round(BAR_WIDTH * (value or 0) / top),
                LABEL_WIDTH + round(BAR_WIDTH * (value or 0) / top) + 4,
                _number(value),
            )
            for index, (label, value) in enumerate(items)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}" preserveAspectRatio="xMinYMin meet">'
        '<title id="{}">{}</title>{}</svg>',
        LABEL_WIDTH + BAR_WIDTH + 80,
        height,
        _chart_id(title),
        _chart_id(title),
        title,
        bars,
    )
