"""What every answer type shares: the strict base, and the few shapes answers repeat."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

# A figure written as the answer computed it: a whole number or a fraction.
Number = int | float
Ms = Annotated[int, Meta(description="epoch milliseconds")]
# Stored rows and recorded events passed through as they are kept (the data export, rrweb events):
# their shape is the store's or the recorder's, not the API's.
Rows = list[dict[str, Any]]


class Answer(Struct, kw_only=True, forbid_unknown_fields=True):
    """An answer (or part of one): a field the type does not declare is a failure, never dropped."""


class Deleted(Answer):
    deleted: int


class Named(Answer):
    """One row of a breakdown: a name and how many."""

    name: str
    sessions: int
    previous: int
