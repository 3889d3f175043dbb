"""Builders of wire-protocol v1 events; each checks its arguments and raises at the call."""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

# Limits mirror the collector's schema (collector/wire.py) so that a bad call fails in the
# caller's stack trace instead of as a rejected event minutes later.
MAX_ID = 64
MAX_SHORT = 256
MAX_TEXT = 2048
MAX_LONG = 16 * 1024
MAX_PROPS = 100
MAX_ITEMS = 200
MAX_MONEY = 1e12
MAX_QTY = 1_000_000
ITEM_FIELDS = frozenset(("sku", "name", "price", "qty", "currency", "category"))
SURVEY_RANGES = {"nps": (0, 10), "ces": (1, 5)}

# A private generator, not the `random` module: an app that calls random.seed(42) must not
# make our event ids repeat, because the collector drops a repeated id as a retry.
_rng = random.Random()
os.register_at_fork(after_in_child=_rng.seed)
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_id() -> str:
    """A random (version 4) UUID string, several times cheaper than str(uuid.uuid4())."""
    # to_bytes().hex() is several times faster than formatting a 128-bit int with :032x.
    h = (_rng.getrandbits(128) & _V4_CLEAR | _V4_SET).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def base(
    kind: str,
    user_id: object,
    anon_id: object,
    session_id: object,
    timestamp: object,
) -> dict[str, Any]:
    """The fields every event carries: id, type, ts and who."""
    event: dict[str, Any] = {"id": new_id(), "type": kind, "ts": _ms(timestamp)}
    if user_id is not None:
        event["user_id"] = identifier("user_id", user_id)
    if anon_id is not None:
        event["anon_id"] = identifier("anon_id", anon_id)
    elif user_id is None:
        raise ValueError("an event needs a user_id or an anon_id")
    if session_id is not None:
        event["session_id"] = identifier("session_id", session_id)
    return event


MAX_TOUCHPOINT = 32


def set_touchpoint(event: dict[str, Any], touchpoint: object) -> None:
    """Where the contact happened (email, call_center, store...); the collector defaults it."""
    if touchpoint is not None:
        event["touchpoint"] = name("touchpoint", touchpoint, MAX_TOUCHPOINT)


def set_text(event: dict[str, Any], field: str, value: object, limit: int = MAX_SHORT) -> None:
    """Set an optional string field, checked against its length limit."""
    if value is not None:
        event[field] = text(field, value, limit)


def text(field: str, value: object, limit: int = MAX_SHORT) -> str:
    """A string of at most `limit` characters."""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{field} is longer than {limit} characters")
    return value


def name(field: str, value: object, limit: int = MAX_SHORT) -> str:
    """A non-empty string, such as an event name."""
    if not text(field, value, limit):
        raise ValueError(f"{field} must not be empty")
    return value  # type: ignore[return-value]


def props(field: str, value: object) -> dict[str, Any]:
    """A shallow copy of a str-keyed mapping, so later changes by the caller do not leak in."""
    if value is None:
        return {}
    # type() before isinstance(): the Mapping ABC check costs more than the rest of a call.
    if type(value) is not dict and not isinstance(value, Mapping):
        raise TypeError(f"{field} must be a dict, not {type(value).__name__}")
    if len(value) > MAX_PROPS:
        raise ValueError(f"{field} has more than {MAX_PROPS} keys")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{field} keys must be str, not {type(key).__name__}")
    return dict(value)


def money(field: str, value: object) -> float:
    """A finite amount within the collector's range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{field} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or abs(value) > MAX_MONEY:
        raise ValueError(f"{field} must be a finite number within ±{MAX_MONEY:g}")
    return value


def currency(value: object) -> str:
    """An ISO 4217 code such as EUR."""
    code = text("currency", value)
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(f"currency must be a three-letter code such as EUR, not {code!r}")
    return code


def item(value: object, field: str = "item") -> dict[str, Any]:
    """A cart item: {sku, name, price, qty, currency, category}; only sku is required."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{field} must be a dict, not {type(value).__name__}")
    unknown = set(value) - ITEM_FIELDS
    if unknown:
        raise ValueError(f"{field} has unknown fields {sorted(map(str, unknown))}")
    if "sku" not in value:
        raise ValueError(f"{field} needs a sku")
    out: dict[str, Any] = {"sku": name(f"{field}.sku", value["sku"])}
    for key in ("name", "category"):
        if value.get(key) is not None:
            out[key] = text(f"{field}.{key}", value[key])
    if value.get("price") is not None:
        out["price"] = money(f"{field}.price", value["price"])
    if value.get("qty") is not None:
        qty = value["qty"]
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise TypeError(f"{field}.qty must be an int, not {type(qty).__name__}")
        if not 0 <= qty <= MAX_QTY:
            raise ValueError(f"{field}.qty must be between 0 and {MAX_QTY}")
        out["qty"] = qty
    if value.get("currency") is not None:
        out["currency"] = currency(value["currency"])
    return out


def items(value: object) -> list[dict[str, Any]]:
    """A list of cart items."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise TypeError(f"items must be a list of dicts, not {type(value).__name__}")
    if len(value) > MAX_ITEMS:
        raise ValueError(f"items has more than {MAX_ITEMS} entries")
    return [item(entry, f"items[{i}]") for i, entry in enumerate(value)]


def survey_fields(kind: object, score: object, scale: object) -> dict[str, Any]:
    """kind, score and scale of a survey answer, with the score range of its kind."""
    if kind not in ("nps", "csat", "ces"):
        raise ValueError(f"survey kind must be 'nps', 'csat' or 'ces', not {kind!r}")
    if isinstance(score, bool) or not isinstance(score, int):
        raise TypeError(f"survey score must be an int, not {type(score).__name__}")
    fields: dict[str, Any] = {"kind": kind, "score": score}
    if kind == "csat":
        scale = 5 if scale is None else scale
        if scale not in (5, 7) or isinstance(scale, bool):
            raise ValueError(f"csat scale must be 5 or 7, not {scale!r}")
        low, high = 1, scale
        fields["scale"] = scale
    else:
        if scale is not None:
            raise ValueError(f"scale applies to csat only, not {kind}")
        low, high = SURVEY_RANGES[kind]
    if not low <= score <= high:
        raise ValueError(f"{kind} score must be between {low} and {high}, not {score}")
    return fields


def identifier(field: str, value: object) -> str:
    """An id of 1 to 64 characters; ints are turned into strings."""
    # Database keys are often ints; the wire wants strings, as segment's SDK converts them.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, not {type(value).__name__}")
    if not 0 < len(value) <= MAX_ID:
        raise ValueError(f"{field} must have 1 to {MAX_ID} characters")
    return value


def _ms(timestamp: object) -> int:
    if timestamp is None:
        return time.time_ns() // 1_000_000
    if not isinstance(timestamp, datetime):
        raise TypeError(f"timestamp must be a datetime, not {type(timestamp).__name__}")
    # Naive datetimes are taken as UTC: backends mostly make them with utcnow().
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    ms = int(timestamp.timestamp() * 1000)
    if ms < 0:
        raise ValueError("timestamp must be after 1970")
    return ms
