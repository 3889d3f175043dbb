"""Surveys: NPS, CSAT and CES exactly as docs/metrics.md defines them, with their breakdowns."""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from collector.query.scope import Scope
from collector.store.sqlite.reads.overview import day_name, days_of, ratio
from collector.store.sqlite.reads.scope import scope_sql

KINDS = ("nps", "csat", "ces")
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
    day: int  # the UTC day its session started: the trend follows the one rule of the API


def nps(answers: Sequence[Answer]) -> dict[str, Any]:
    """%promoters (9-10) minus %detractors (0-6); passives are 7-8; -100..100."""
    n = len(answers)
    promoters = sum(a.score >= 9 for a in answers)
    detractors = sum(a.score <= 6 for a in answers)
    return {
        "responses": n,
        "score": 100 * ratio(promoters - detractors, n),
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
        "distribution": _distribution(answers, range(0, 11)),
    }


def _top_two(answer: Answer) -> bool:
    return answer.score >= (answer.scale or 5) - 1


def csat(answers: Sequence[Answer]) -> dict[str, Any]:
    """% of answers in the top two boxes of their own scale, plus the mean per scale."""
    n = len(answers)
    by_scale: dict[int, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_scale[answer.scale or 5].append(answer)
    scales = {
        str(scale): {
            "responses": len(group),
            "score": 100 * ratio(sum(map(_top_two, group)), len(group)),
            "mean": ratio(sum(a.score for a in group), len(group)),
            "distribution": _distribution(group, range(1, scale + 1)),
        }
        for scale, group in sorted(by_scale.items())
    }
    # A mean across 5- and 7-point answers would mean nothing: it is given per scale then.
    mean = next(iter(scales.values()))["mean"] if len(scales) == 1 else (0.0 if not scales else None)
    return {
        "responses": n,
        "score": 100 * ratio(sum(map(_top_two, answers)), n),
        "satisfied": sum(map(_top_two, answers)),
        "mean": mean,
        "by_scale": scales,
    }


def ces(answers: Sequence[Answer]) -> dict[str, Any]:
    """%(4-5, easy) minus %(1-2, difficult); neutral is 3."""
    n = len(answers)
    easy = sum(a.score >= 4 for a in answers)
    difficult = sum(a.score <= 2 for a in answers)
    return {
        "responses": n,
        "score": 100 * ratio(easy - difficult, n),
        "easy": easy,
        "neutral": n - easy - difficult,
        "difficult": difficult,
        "mean": ratio(sum(a.score for a in answers), n),
        "distribution": _distribution(answers, range(1, 6)),
    }


SCORERS = {"nps": nps, "csat": csat, "ces": ces}


def _distribution(answers: Sequence[Answer], scores: range) -> dict[str, int]:
    counts = Counter(a.score for a in answers)
    return {str(score): counts.get(score, 0) for score in scores}


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


def load_answers(conn: sqlite3.Connection, scope: Scope, survey_id: str | None = None) -> list[Answer]:
    where, args = scope_sql(scope)
    extra = ""
    if survey_id:
        extra, args = " AND json_extract(e.data, '$.survey_id') = ?", [*args, survey_id]
    rows = conn.execute(
        "SELECT e.name, json_extract(e.data, '$.score'), json_extract(e.data, '$.scale'),"
        " json_extract(e.data, '$.comment'), json_extract(e.data, '$.survey_id'), e.ts,"
        " e.session_id, s.visitor_id, s.channel, s.device, s.has_replay, s.first_ts / 86400000"
        " FROM sessions s JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        f" AND e.type = 'survey' WHERE {where}{extra} ORDER BY e.ts, e.rowid",
        args,
    )
    return [Answer(*row[:10], bool(row[10]), row[11]) for row in rows]  # type: ignore[call-arg]  # the 12 fields in order


def surveys(conn: sqlite3.Connection, scope: Scope, survey_id: str | None = None) -> dict[str, Any]:
    """Scores, distributions, a daily trend, comments and splits by channel and device."""
    answers = load_answers(conn, scope, survey_id)
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
