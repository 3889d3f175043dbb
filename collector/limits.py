"""Token buckets for per-IP and per-site rate limits, kept in memory and bounded."""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class RateLimiter:
    """`rate` requests per second with bursts of `2 * rate`; a rate of 0 lets everything through."""

    def __init__(self, rate: float, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """None when a request by `key` may go ahead (and is counted); else seconds to wait."""
        if self.rate <= 0:
            return None
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            tokens -= 1
            wait = None
        else:
            wait = max(1, math.ceil((1 - tokens) / self.rate))
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait
