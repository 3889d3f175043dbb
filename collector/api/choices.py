"""GET /api/ui/choices: what the heatmap and replay pages list (devices, heatmap layers, the
event types on the replay timeline), from the collector's own definitions, not copies in the pages."""

from __future__ import annotations

from typing import Any

from msgspec import Struct
from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANY, VIEWER, api
from collector.query.definitions import DEVICES
from collector.replies import returns
from collector.wire import EVENT_TYPES


class Choice(Struct):
    value: str
    label: str


class Device(Struct):
    """A heatmap device bucket (mobile < 768 px <= tablet < 1024 px <= desktop, docs/metrics.md)."""

    value: str
    label: str
    # the width a page without a recorded snapshot is drawn at: a common viewport of the bucket
    width: int


class Choices(Struct):
    devices: list[Device]
    heatmap_layers: list[Choice]
    timeline_types: list[str]


WIDTHS = {"desktop": 1280, "tablet": 820, "mobile": 390}
# rage clicks are a click layer of their own (the heatmap's `rage=1`); scroll is the reach map
LAYERS = [Choice("click", "Clicks"), Choice("rage", "Rage clicks"), Choice("scroll", "Scroll")]
# the kinds the replay timeline marks: the visitor's steps and what went right or wrong, not the
# measurements (scroll, page_leave, vital) that would crowd it
TIMELINE = ("pageview", "click", "cart", "checkout", "purchase", "error", "survey")
assert set(TIMELINE) <= set(EVENT_TYPES), "the replay timeline names an event type the wire protocol does not have"

CHOICES = Choices(
    devices=[Device(d, d.capitalize(), WIDTHS[d]) for d in DEVICES],
    heatmap_layers=LAYERS,
    timeline_types=list(TIMELINE),
)


@api(VIEWER, ANY)  # the same constants for everyone
def choices(request: Request) -> Any:
    return CHOICES


routes = [Route("/ui/choices", returns(Choices, choices))]
