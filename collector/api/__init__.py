"""The analyst API, mounted at /api: one module per resource, each with its `routes`.

base.py holds what every endpoint shares (the site, the range, the scope); collector/access.py who
may ask, each endpoint declaring its role."""

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
    teams,
    triggers,
)

RESOURCES = (sites, sessions, replay, reports, goals, heatmap, persons, segments, rejected, experiments,
             journey, outcome, triggers, choices, teams)
routes: list[BaseRoute] = [route for resource in RESOURCES for route in resource.routes]
