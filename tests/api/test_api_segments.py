"""Saved segments usable as `segment=<id>` everywhere, and the 400s of bad parameters."""

from __future__ import annotations

import pytest

from tests.support.analytics_journeys import DATE, build
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter


def test_segment_lifecycle_and_use_on_every_endpoint(client: Client) -> None:
    build(client)
    created = client.http.post("/api/segments", headers=client.admin, json={
        "site": "test", "name": "mobile buyers", "filters": {"device": "mobile", "converted": True},
    })
    assert created.status_code == 201, created.text
    segment = created.json()
    assert (segment["name"], segment["filters"]) == ("mobile buyers", {"device": "mobile", "converted": "1"})
    listed = client.http.get("/api/segments?site=test", headers=client.admin).json()["segments"]
    assert [s["id"] for s in listed] == [segment["id"]]
    q = f"site=test&from={DATE}&to={DATE}&segment={segment['id']}"
    get = lambda path: client.http.get(f"{path}?{q}", headers=client.admin).json()  # noqa: E731
    assert [s["id"] for s in get("/api/sessions")["sessions"]] == ["s5"]
    overview = get("/api/overview")["metrics"]
    assert (overview["sessions"]["value"], overview["visitors"]["value"], overview["revenue"]["value"]) == (1, 1, 30.0)
    assert get("/api/commerce")["revenue"] == 30.0
    assert get("/api/surveys")["nps"]["responses"] == 1
    assert client.http.get(f"/api/paths?{q}&from_url=/checkout", headers=client.admin).json()["sessions"] == 1
    assert [c["visitors"] for c in get("/api/retention")["cohorts"]] == [1]
    funnel = client.http.post("/api/funnel", headers=client.admin, json={
        "site": "test", "from": DATE, "to": DATE, "segment": segment["id"],
        "steps": [{"type": "pageview"}, {"type": "purchase"}],
    }).json()
    assert [s["visitors"] for s in funnel["steps"]] == [1, 1]
    # a segment and a filter add up
    assert client.http.get(f"/api/sessions?{q}&country=DE", headers=client.admin).json()["sessions"] == []
    deleted = client.http.delete(f"/api/segments/{segment['id']}?site=test", headers=client.admin)
    assert deleted.json() == {"deleted": segment["id"]}
    gone = client.http.get(f"/api/sessions?{q}", headers=client.admin)
    assert (gone.status_code, gone.json()) == (404, {"error": f"no segment {segment['id']} for this site"})


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("GET", "/api/overview?from=yesterday", None, 400, "bad date 'yesterday': use YYYY-MM-DD or epoch ms"),
    ("GET", "/api/overview?from=2025-02-01&to=2025-01-01", None, 400,
     "the date range is reversed: from 2025-02-01 is after to 2025-01-01; swap them"),
    ("GET", "/api/overview?from=2000-01-01&to=2025-01-01", None, 400, "the range may span at most 1000 days"),
    ("GET", "/api/overview?site=nope", None, 404, "no site 'nope'"),
    ("GET", "/api/sessions?limit=0", None, 400, "limit must be between 1 and 500"),
    ("GET", "/api/sessions?from=99999999999999999999", None, 400,
     "bad time '99999999999999999999': epoch ms past the year 2100"),
    ("GET", "/api/overview?to=99999999999999999999", None, 400,
     "bad time '99999999999999999999': epoch ms past the year 2100"),
    ("GET", "/api/sessions?segment=99999999999999999999", None, 400,
     "segment must be a segment id (see /api/segments)"),
    ("DELETE", "/api/segments/99999999999999999999", None, 400, "a segment id is a number"),
    ("GET", "/api/sessions?cursor=%%%", None, 400, "bad cursor: pass back `next` with the sort and order it came from"),
    ("GET", "/api/sessions?sort=colour", None, 400, "sort must be one of time, duration, pages, revenue, not 'colour'"),
    ("GET", "/api/sessions?order=up", None, 400, "order must be asc or desc, not 'up'"),
    ("GET", "/api/persons?sort=age", None, 400,
     "sort must be one of last_seen, first_seen, sessions, revenue, purchases, not 'age'"),
    ("GET", "/api/persons?order=sideways", None, 400, "order must be asc or desc, not 'sideways'"),
    ("GET", "/api/persons?offset=-1", None, 400, "offset must be between 0 and 2147483648"),
    ("GET", "/api/retention?from=2025-02-01&to=2025-01-01", None, 400,
     "the date range is reversed: from 2025-02-01 is after to 2025-01-01; swap them"),
    ("GET", "/api/sessions?converted=maybe", None, 400, "converted must be 1 or 0, not 'maybe'"),
    ("GET", "/api/sessions?min_duration=long", None, 400, "min_duration must be a number of seconds"),
    ("GET", "/api/sessions?min_duration=-1", None, 400, "min_duration must be between 0 and 1e9 seconds"),
    ("GET", "/api/sessions?segment=abc", None, 400, "segment must be a segment id (see /api/segments)"),
    ("GET", "/api/sessions?bots=2", None, 400, "bots must be 1 or 0, not '2'"),
    ("GET", "/api/paths?from_url=/&depth=0", None, 400, "depth must be between 1 and 10"),
    ("GET", "/api/retention?weeks=99", None, 400, "weeks must be between 1 and 52"),
    ("GET", "/api/segments/1", None, 405, "Method Not Allowed"),
    ("DELETE", "/api/segments/x", None, 400, "a segment id is a number"),
    ("DELETE", "/api/segments/7", None, 404, "no segment 7 for this site"),
    ("POST", "/api/segments", {"name": "x", "filters": {"colour": "red"}}, 400,
     "unknown filter 'colour'; filters are country, region, device, browser, os, page, entry, exit,"
     " referrer, channel, campaign, source, converted, abandoned, replay, frustrated, min_duration, user,"
     " visitor, clicked, error, experiment, variant, outcome"),
    ("POST", "/api/segments", {"name": "x", "filters": {"converted": "perhaps"}}, 400,
     "converted must be 1 or 0, not 'perhaps'"),
    ("POST", "/api/segments", {"name": "", "filters": {}}, 400,
     "invalid request: Expected `str` of length >= 1 - at `$.name`"),
    ("POST", "/api/funnel", {"steps": [{"type": "pageview"}]}, 400,
     "invalid request: Expected `array` of length >= 2 - at `$.steps`"),
    ("POST", "/api/funnel", {"steps": [{"type": "pageview"}, {"type": "teleport"}]}, 400,
     "unknown step type 'teleport'; types are pageview, click, scroll, page_leave, cart, checkout, purchase,"
     " identify, track, survey, error, vital, exposure"),
    ("POST", "/api/funnel", {"steps": [{"type": "pageview"}, {"type": "purchase"}], "window_s": 0}, 400,
     "invalid request: Expected `int` >= 1 - at `$.window_s`"),
    ("POST", "/api/funnel", {"steps": [{"type": "pageview"}, {"type": "purchase"}], "from": "x"}, 400,
     "bad date 'x': use YYYY-MM-DD or epoch ms"),
    ("POST", "/api/funnel", {"steps": [{"type": "pageview"}, {"type": "purchase"}], "site": "nope"}, 404,
     "no site 'nope'"),
    ("POST", "/api/funnel", {"steps": [{"type": "pageview", "colour": 1}, {"type": "purchase"}]}, 400,
     "invalid request: Object contains unknown field `colour` - at `$.steps[0]`"),
])
def test_bad_parameters_are_clear_4xx(
    client: Client, method: str, path: str, body: object, status: int, message: str
) -> None:
    answer = client.http.request(method, path, json=body, headers=client.admin)
    assert (answer.status_code, answer.json()) == (status, {"error": message})


def test_malformed_json_and_missing_token(client: Client) -> None:
    answer = client.http.post("/api/funnel", content=b"{", headers=client.admin)
    assert answer.status_code == 400 and answer.json()["error"].startswith("malformed JSON")
    assert client.http.get("/api/overview").status_code == 401
