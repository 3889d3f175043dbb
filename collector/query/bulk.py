"""Reading a million small rows at once, with the cyclic garbage collector paused.

The touches of a journey map or of the outcome model are a million tuples of strings and numbers
that hold no cycles, yet each allocation counts towards the next collection, and each older
generation's collection walks them all again: CPython spends more time there than on building
them. The collector is process-wide, so concurrent readers share one pause, which ends (back to
the state it found) when the last of them is done; nothing is lost meanwhile, a cycle made during
the pause is collected after it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pause = {"readers": 0, "was_enabled": False}


@contextmanager
def gc_paused() -> Iterator[None]:
    with _lock:
        if _pause["readers"] == 0:
            _pause["was_enabled"] = gc.isenabled()
            gc.disable()
        _pause["readers"] += 1
    try:
        yield
    finally:
        with _lock:
            _pause["readers"] -= 1
            if _pause["readers"] == 0 and _pause["was_enabled"]:
                gc.enable()
