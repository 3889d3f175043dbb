"""GET /api/ui/choices: the lists the heatmap and replay pages offer come from the collector."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.fixtures import collector_server  # noqa: F401


def test_the_pages_lists_are_the_collectors_definitions(collector_server: Any) -> None:  # noqa: F811
    answer = httpx.get(f"{collector_server.url}/api/ui/choices", headers=collector_server.admin)
    assert answer.status_code == 200
    assert answer.json() == {
        "devices": [
            {"value": "desktop", "label": "Desktop", "width": 1280},
            {"value": "tablet", "label": "Tablet", "width": 820},
            {"value": "mobile", "label": "Mobile", "width": 390},
        ],
        "heatmap_layers": [
            {"value": "click", "label": "Clicks"},
            {"value": "rage", "label": "Rage clicks"},
            {"value": "scroll", "label": "Scroll"},
        ],
        "timeline_types": ["pageview", "click", "cart", "checkout", "purchase", "error", "survey"],
    }


def test_the_choices_need_the_admin(collector_server: Any) -> None:  # noqa: F811
    answer = httpx.get(f"{collector_server.url}/api/ui/choices")
    required = {"error": "sign in, or send an API key (Authorization: Bearer <key>)"}
    assert (answer.status_code, answer.json()) == (401, required)
