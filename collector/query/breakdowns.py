"""Folding raw breakdown values into what the analyst reads: referrer URLs into hosts, entry and
exit URLs into paths. Engine-neutral: a store hands back (raw value, count) pairs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from collector.query.scope import NONE, referrer_host


@lru_cache(maxsize=16384)  # a few referrers and pages repeat across many sessions
def host(referrer: str | None) -> str:
    """A referrer URL as the host a referrer filter takes (`www.` dropped); NONE without one."""
    return (referrer_host(referrer) or NONE) if referrer else NONE


@lru_cache(maxsize=16384)
def page(url: str | None) -> str:
    """An entry or exit URL as its path (as collector/ingest/pipeline.py stores a pageview's path)."""
    if not url:
        return NONE
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return NONE


def fold(rows: Iterable[tuple[str | None, int]], key: Callable[[str | None], str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for value, n in rows:
        counts[key(value)] += n
    return counts


def region_key(country: str | None, region: str | None) -> str:
    """A region row's key: `DE/Bavaria` (country code first, since region names repeat across countries)."""
    return f"{country or ''}/{region or ''}" if region else NONE


def split_region(key: str) -> tuple[str | None, str | None]:
    if key == NONE:
        return None, None
    country, _, region = key.partition("/")
    return country or None, region



