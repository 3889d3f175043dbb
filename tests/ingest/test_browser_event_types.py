"""The browser SDK's event types (sdk_js/src/events.ts) name the same kinds and fields as the wire
types the collector decodes (collector/wire.py): a field added on one side only fails here."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from collector import wire

EVENTS_TS = Path(__file__).resolve().parents[2] / "sdk_js" / "src" / "events.ts"


def block(text: str, head: str) -> str:
    """The body of the `{ ... }` that follows `head`, nested braces included."""
    start = text.index(head) + len(head)
    depth = 1
    for at in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[at], 0)
        if depth == 0:
            return text[start:at]
    raise AssertionError(f"{head} is not closed")


def members(body: str) -> dict[str, bool]:
    """Top-level members of a TypeScript object type: name -> required."""
    out: dict[str, bool] = {}
    depth = 0
    for match in re.finditer(r"[{}]|(\w+)(\??):", body):
        if match.group(0) in "{}":
            depth += 1 if match.group(0) == "{" else -1
        elif depth == 0:
            out[match.group(1)] = match.group(2) != "?"
    return out


def source() -> str:
    """events.ts without its comments (their words are not members)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", EVENTS_TS.read_text(), flags=re.S)


def ts_kinds() -> dict[str, dict[str, bool]]:
    fields = block(source(), "export type Fields = {")
    return {name: members(block(fields, f"  {name}: {{")) for name in members(fields)}


def wire_fields(struct: type[msgspec.Struct]) -> dict[str, bool]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.name: f.required for f in info.fields}


def test_the_sdk_types_every_event_kind_the_collector_decodes() -> None:
    assert sorted(ts_kinds()) == sorted(wire.EVENT_TYPES)


def test_each_kind_has_the_wire_fields_and_requires_what_the_collector_requires() -> None:
    base = wire_fields(wire.Base)
    common = members(block(source(), "export type Common = {"))
    assert sorted(common) == sorted(base)
    structs = {t.__struct_config__.tag: t for t in wire.Event.__args__}
    for kind, ts in ts_kinds().items():
        fields = wire_fields(structs[kind])
        # identify restates user_id: required there, optional on every other kind
        own = {name: required for name, required in fields.items() if name not in base or required != base[name]}
        # a kind may restate a common field it sets itself (a pageview's referrer and title)
        assert set(own) <= set(ts) <= set(fields), kind
        assert [name for name, required in own.items() if required and not ts[name]] == [], kind
