"""Dashboard page routes: each answers the shell with its mount points, or sends you to log in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collector.access import ANALYST, OWNER, VIEWER, page, public
from collector.ui import shell
from collector.ui.login import logged_in

Endpoint = Callable[[Request], Awaitable[Response]]


def protected(endpoint: Endpoint) -> Endpoint:
    """Kept for pages written before roles: any login, and no declared role, so the route walk
    in tests/security/test_security_roles.py fails until the page says what it needs."""
    wrapped = page(VIEWER)(endpoint)
    del wrapped.min_role  # type: ignore[attr-defined]
    return wrapped


@public
async def home(request: Request) -> Response:
    return RedirectResponse("/overview" if logged_in(request) else "/login", 303)


def simple(key: str, title: str, body: str, role: str = VIEWER) -> Endpoint:
    @page(role)
    async def render(request: Request) -> Response:
        return shell.page(key, title, body)

    return render


OVERVIEW = """<section class="cards" id="kpis" aria-label="Key figures"></section>
<section class="panel"><div class="panel-head"><h2>Traffic</h2><div class="legend" id="chart-legend"></div></div>
<div id="chart" class="chart"></div></section>
<div id="goals-slot"></div>
<section class="grid-2" id="breakdowns"></section>"""

SESSIONS = """<details class="panel filters" id="filters" open><summary>Filters</summary>
<form id="filter-form" class="filter-grid"></form></details>
<section class="panel"><div class="panel-head"><h2>Sessions</h2><span class="muted" id="sessions-total"></span></div>
<div class="table-wrap"><table class="table" id="sessions-table"></table></div>
<div class="pager"><button type="button" id="more" hidden>Load more</button></div></section>"""

SESSION = """<section class="panel" id="session-facts"></section>
<section class="grid-replay"><div class="panel"><div class="panel-head"><h2>Replay</h2>
<a id="replay-link" class="button" href="#">Open player</a></div><div id="replay" class="replay-mount"></div></div>
<div class="panel"><h2>Events</h2><ol class="timeline" id="timeline"></ol></div></section>"""

FUNNELS = """<section class="panel"><h2>Steps</h2><form id="funnel-form" class="funnel-builder">
<ol id="steps" class="steps"></ol>
<div class="row"><button type="button" id="add-step">Add step</button>
<label class="field inline"><span>Window (hours)</span><input type="number" id="window-h" min="1" value="24"></label>
<button type="submit" class="primary">Run funnel</button></div></form></section>
<section class="panel" id="funnel-result"></section>"""

PATHS = """<section class="panel"><form id="paths-form" class="row">
<label class="field inline grow"><span>From page</span><input id="from-url" placeholder="/ or /product/*"></label>
<button type="submit" class="primary">Show paths</button></form></section>
<section class="panel"><div id="flow" class="flow"></div></section>
<section class="grid-2" id="path-tables"></section>"""

SECTION = '<section id="page-body"></section>'


async def person(request: Request) -> Response:
    return shell.page("people", "Person", SECTION, script="person",
                      data={"person": request.path_params["id"]})


async def experiment(request: Request) -> Response:
    return shell.page("experiments", "Experiment", SECTION, script="experiment",
                      data={"experiment": request.path_params["key"]})


async def session_page(request: Request) -> Response:
    return shell.page("sessions", "Session", SESSION, script="session",
                      data={"session": request.path_params["id"]})


overview = simple("overview", "Overview", OVERVIEW)
sessions = simple("sessions", "Sessions", SESSIONS, ANALYST)
funnels = simple("funnels", "Funnels", FUNNELS, ANALYST)
paths = simple("paths", "Paths", PATHS)
journey = simple("journey", "Journey map", SECTION)
retention = simple("retention", "Retention", SECTION)
commerce = simple("commerce", "Commerce", SECTION)
surveys = simple("surveys", "Surveys", SECTION)
people = simple("people", "People", SECTION, ANALYST)
segments = simple("segments", "Segments", SECTION, ANALYST)
settings = simple("settings", "Settings", SECTION, OWNER)
triggers = simple("triggers", "Triggers", SECTION, OWNER)
experiments = simple("experiments", "Experiments", SECTION)
goals = simple("goals", "Goals", SECTION)
events = simple("events", "Custom events", SECTION)
vitals = simple("vitals", "Web Vitals", SECTION)
errors = simple("errors", "JavaScript errors", SECTION, ANALYST)
live = simple("live", "Live", SECTION, ANALYST)
person_page = page(ANALYST)(person)
session_detail = page(ANALYST)(session_page)
experiment_page = page(VIEWER)(experiment)
