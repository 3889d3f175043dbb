"""Surveys, engine-neutral: the answers of a scope summed into scores (collector/query/cx.py),
distributions, a daily trend, comments and splits by channel and device."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from collector.query.cx import KINDS, SCORERS
from collector.query.overview import day_name, days_of
from collector.query.scope import Scope

COMMENTS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str
    score: int
    scale: int | None
    comment: str | None
    survey_id: str | None
    ts: int
    session_id: str
    visitor_id: str
    channel: str | None
    device: str | None
    has_replay: bool
    day: int  # the site-local day its session started: the trend follows the one rule of the API


def _split(answers: Sequence[Answer], key: str) -> dict[str, list[dict[str, Any]]]:
    result = {}
    for kind in KINDS:
        groups: dict[str, list[Answer]] = defaultdict(list)
        for answer in answers:
            if answer.kind == kind:
                groups[getattr(answer, key) or "(none)"].append(answer)
        result[kind] = [
            {"name": name, "responses": len(group), "score": SCORERS[kind](group)["score"]}
            for name, group in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
        ]
    return result


def summary(scope: Scope, answers: Sequence[Answer]) -> dict[str, Any]:
    """Scores, distributions, a daily trend, comments and splits by channel and device, from the
    scope's answers in stored order (time, then arrival)."""
    by_kind = {kind: [a for a in answers if a.kind == kind] for kind in KINDS}
    by_day: dict[tuple[str, int], list[Answer]] = defaultdict(list)
    for answer in answers:
        by_day[(answer.kind, answer.day)].append(answer)
    trend = [
        {
            "date": day_name(day),
            **{
                kind: {
                    "responses": len(by_day.get((kind, day), [])),
                    "score": SCORERS[kind](by_day.get((kind, day), []))["score"],
                }
                for kind in KINDS
            },
        }
        for day in days_of(scope)
    ]
    comments = [
        {
            "ts": a.ts, "kind": a.kind, "score": a.score, "scale": a.scale, "comment": a.comment,
            "survey_id": a.survey_id, "session_id": a.session_id, "visitor_id": a.visitor_id,
            "has_replay": a.has_replay,
        }
        for a in reversed(answers) if a.comment
    ][:COMMENTS_SHOWN]
    return {
        **{kind: SCORERS[kind](group) for kind, group in by_kind.items()},
        "trend": trend,
        "comments": comments,
        "by_channel": _split(answers, "channel"),
        "by_device": _split(answers, "device"),
    }
