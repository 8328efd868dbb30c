"""Catalog search: PostgreSQL full-text with a GIN index, a plain fallback elsewhere.

The index (migration 0002) and the query are built from the same expression,
so PostgreSQL can use the index. The ``simple`` configuration lowercases and
does not stem: there is no Indonesian stemmer in PostgreSQL, and English stems
would mangle Indonesian words.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

SEARCH_CONFIG = "simple"
MAX_TERMS = 8
_TERM = re.compile(r"\w+", re.UNICODE)


def search_vector(prefix: str = "") -> SearchVector:
    """Title weighs more than the description. ``prefix`` is e.g. ``"training__"``."""
    return SearchVector(f"{prefix}title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        f"{prefix}description", weight="B", config=SEARCH_CONFIG
    )


def search_terms(text: str) -> list[str]:
    """Words of a search box entry, lowercased, at most MAX_TERMS. Operators are dropped."""
    return [term.lower() for term in _TERM.findall(text or "")][:MAX_TERMS]


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def apply_search(queryset: QuerySet, *, text: str, prefix: str = "") -> tuple[QuerySet, bool]:
    """Filter to rows matching every term (as a word prefix) and annotate ``relevance``.

    Returns the queryset and whether anything was searched for.
    """
    terms = search_terms(text)
    if not terms:
        return queryset, False
    if uses_full_text():
        # Terms are \w+ only, so the raw tsquery cannot contain operators.
        query = SearchQuery(
            " & ".join(f"{term}:*" for term in terms), search_type="raw", config=SEARCH_CONFIG
        )
        queryset = queryset.annotate(search=search_vector(prefix)).filter(search=query)
        # Rank on the title alone: the matching rows' descriptions would have to be
        # parsed again for every request; a title match is what makes a result relevant.
        title_vector = SearchVector(f"{prefix}title", config=SEARCH_CONFIG)
        return queryset.annotate(relevance=SearchRank(title_vector, query)), True
    condition = Q()
    for term in terms:
        condition &= Q(**{f"{prefix}title__icontains": term}) | Q(**{f"{prefix}description__icontains": term})
    queryset = queryset.filter(condition)
    # Fallback relevance: the number of terms found in the title.
    relevance = sum(
        (
            Case(When(**{f"{prefix}title__icontains": term}, then=Value(1)), default=Value(0))
            for term in terms
        ),
        Value(0),
    )
    return queryset.annotate(relevance=relevance * Value(1, output_field=IntegerField())), True
