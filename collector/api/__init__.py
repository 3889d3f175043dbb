"""The analyst API, mounted at /api: one module per resource, each with its `routes`.

base.py holds what every endpoint shares (the admin check, the site, the range, the scope)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from collector.api import (
    choices,
    experiments,
    goals,
    heatmap,
    journey,
    outcome,
    persons,
    rejected,
    replay,
    reports,
    segments,
    sessions,
    sites,
    triggers,
)

RESOURCES = (sites, sessions, replay, reports, goals, heatmap, persons, segments, rejected, experiments,
             journey, outcome, triggers, choices)
routes: list[BaseRoute] = [route for resource in RESOURCES for route in resource.routes]
