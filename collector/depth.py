"""JSON nesting depth, measured before msgspec decodes: its parser recurses once per level.

msgspec counts each array or object level against Python's recursion limit (1,000 in total, of
which the server's own call stack already takes a part), so a body nested a thousand levels
deep raised RecursionError, a 500 for the whole batch. A fixed limit far below that refuses
such input as a client error, the same on every stack.
"""

from __future__ import annotations

import re

# An event or an API body: props, traits and funnel steps are flat; 32 levels is far beyond any
# real use. A replay chunk holds rrweb's DOM tree, two JSON levels per DOM level, so it gets more.
MAX_DEPTH = 32
MAX_REPLAY_DEPTH = 400

# A complete JSON string (escapes included). An unterminated one does not match, so its brackets
# keep counting: the estimate errs towards refusing, never towards recursing.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN_CLOSE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def deeper_than(buf: bytes, limit: int) -> bool:
    """Whether JSON text nests more than `limit` arrays and objects (unclosed ones count too)."""
    if buf.count(b"[") + buf.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", buf).translate(_OPEN_CLOSE, _NOT_BRACKET)
    # Each round removes the innermost pairs; a balanced part of depth d is gone after d rounds.
    # bytes.replace runs in C, so even a 1 MiB body costs at most `limit` fast passes.
    rounds = 0
    while rounds < limit:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets, rounds = shorter, rounds + 1
    if b"[]" in brackets:
        return True
    # What is left is unmatched: `]]][[[`. Unclosed openers add their count to the depth.
    return rounds + brackets.count(b"[") > limit


# Tokens for the slow path: runs of openers, runs of closers, and runs of anything else
# (strings whole, so that their brackets do not count). Only bracket runs cost Python work.
_TOKEN = re.compile(rb'[\[{]+|[\]}]+|(?:"[^"\\]*(?:\\.[^"\\]*)*"|[^"\[\]{}])+|"')
# About 0.1 s of CPU: enough for any real batch, a bound for a body built to be slow to split.
MAX_TOKENS = 50_000


def deep_items(buf: bytes, container_depth: int, limit: int) -> list[tuple[int, int]] | None:
    """(start, end) of each value inside a container at `container_depth` that nests deeper than
    `limit` levels of its own; None when the body has too many tokens to split cheaply."""
    found: list[tuple[int, int]] = []
    depth = 0
    start = peak = -1
    item_depth = container_depth + 1
    for count, match in enumerate(_TOKEN.finditer(buf)):
        if count > MAX_TOKENS:
            return None
        token = match.group()
        first = token[:1]
        if first == b"[" or first == b"{":
            if depth < item_depth <= depth + len(token):  # an item of the container opens here
                start, peak = match.start() + (item_depth - depth - 1), 0
            depth += len(token)
            if start >= 0:
                peak = max(peak, depth - container_depth)
        elif first == b"]" or first == b"}":
            after = depth - len(token)
            if start >= 0 and after < item_depth:  # the item closes inside this run
                if peak > limit:
                    found.append((start, match.start() + (depth - item_depth) + 1))
                start = -1
            depth = max(after, 0)
    if start >= 0 and peak > limit:  # never closed: refuse it as deep, not as truncated
        found.append((start, len(buf)))
    return found
