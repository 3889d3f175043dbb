"""Experiment assignment, the same in every Trailmark SDK: a hash of the key and the visitor id.

h = 32-bit FNV-1a of the UTF-8 bytes of `key + ":" + visitor_id`; u = (h % 10000) / 10000; the
variant is the first whose cumulative weight (weights normalised to sum 1) exceeds u.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

MAX_VARIANTS = 100
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a(text: str) -> int:
    """32-bit FNV-1a over the UTF-8 bytes of `text`."""
    h = _FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def bucket(key: str, visitor_id: str) -> float:
    """Where a visitor falls in [0, 1) for one experiment, in steps of 1/10000."""
    return (fnv1a(f"{key}:{visitor_id}") % 10000) / 10000


def check_variants(variants: Sequence[str], weights: Sequence[float] | None) -> list[float]:
    """The weights normalised to sum 1 (equal when None); raises on a bad list."""
    if isinstance(variants, str) or not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"variants must be a list of 1 to {MAX_VARIANTS} names")
    for variant in variants:
        if not isinstance(variant, str) or not 1 <= len(variant) <= 64:
            raise ValueError("each variant must be a non-empty str of at most 64 characters")
    if len(set(variants)) != len(variants):
        raise ValueError("variants must be distinct")
    if weights is None:
        return [1 / len(variants)] * len(variants)
    if len(weights) != len(variants):
        raise ValueError("weights must have one number per variant")
    if any(not isinstance(w, (int, float)) or isinstance(w, bool) or not math.isfinite(w) or w < 0 for w in weights):
        raise ValueError("weights must be finite numbers >= 0")
    total = 0.0
    for w in weights:  # left to right, as JavaScript adds: sum() compensates since Python 3.12
        total += w
    if total <= 0:
        raise ValueError("weights must not all be 0")
    return [w / total for w in weights]


def assign(key: str, visitor_id: str, variants: Sequence[str], weights: Sequence[float] | None = None) -> str:
    """The variant of `key` that `visitor_id` gets."""
    shares = check_variants(variants, weights)
    u = bucket(key, visitor_id)
    cumulative = 0.0
    for variant, share in zip(variants, shares):
        cumulative += share
        if cumulative > u:
            return variant
    # Rounding may leave the sum just under 1: the last variant with weight takes the rest.
    return next(v for v, s in zip(reversed(variants), reversed(shares)) if s > 0)


class Recent:
    """Which exposures were recorded in the last `window` seconds: one per visitor and session."""

    def __init__(self, window: float = 30 * 60, size: int = 10_000) -> None:
        self.window = window
        self.size = size  # bounded: a long-running server must not grow with its visitors
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, key: str, now: float | None = None) -> bool:
        """True when `key` was not seen within the window (and remember it now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.pop(key, None)
            self._seen[key] = now if seen is None or now - seen >= self.window else seen
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return seen is None or now - seen >= self.window
