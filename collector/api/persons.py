"""People under /api/persons: the list in scope, the 360 view, and data rights: erase everything
about one person (DELETE) or hand it all over (export)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, OWNER, api
from collector.api.base import scope_of, site_param
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.params import PEOPLE_SORTS, integer, sort_order
from collector.replies import Reply, returns


def _person_id(request: Request) -> str:
    """The id from the path, or from `?id=` for ids a path cannot carry (a `/`, say)."""
    person_id = request.path_params.get("id")
    if person_id is None:
        person_id = request.query_params.get("id")
        if person_id is None:
            raise ClientError(400, "id is required: /api/person?site=SITE&id=ID")
    if not person_id or len(person_id) > 64:  # the wire protocol's id limit
        raise ClientError(400, "a person id is 1 to 64 characters")
    return str(person_id)


@api(OWNER)
def delete_person(request: Request) -> Any:
    """Erase a person: events, sessions, replays, identities, traits and rejected events."""
    site_id = site_param(request)
    counts = request.app.state.store.erase_person(site_id, _person_id(request))
    return {"deleted": counts}


@api(OWNER)
def export_person(request: Request) -> Any:
    """Everything about a person as one JSON download."""
    site_id = site_param(request)
    person_id = _person_id(request)
    found = request.app.state.store.export_person(site_id, person_id)
    if not (found["events"] or found["persons"] or found["sessions"] or found["dead_letters"]):
        raise ClientError(404, f"nothing stored about {person_id!r}")
    # Header values are latin-1: anything else in an id becomes "_" in the file name.
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in person_id)
    return Reply(found, headers={
        "Content-Disposition": f'attachment; filename="trailmark-person-{safe}.json"',
    })


@api(ANALYST)
def view_person(request: Request) -> Any:
    """The 360 view by `?id=`, for ids a path cannot carry."""
    found = request.app.state.store.person(site_param(request), _person_id(request))
    if found is None:
        raise ClientError(404, "no such person")
    return found


@api(ANALYST)
def people(request: Request) -> Any:
    q = request.query_params
    limit = integer(q.get("limit"), 50, name="limit", lo=1, hi=500)
    offset = integer(q.get("offset"), 0, name="offset", lo=0)
    sort, descending = sort_order(q.get("sort"), q.get("order"), PEOPLE_SORTS)
    return request.app.state.store.people(
        scope_of(request), sort=sort, descending=descending, limit=limit, offset=offset
    )


@api(ANALYST)
def person(request: Request) -> Any:
    site_id = site_param(request)
    found = request.app.state.store.person(site_id, request.path_params["id"])
    if found is None:
        raise ClientError(404, "no such person")
    return found


routes = [
    Route("/persons", returns(a.People, people)),
    Route("/persons/{id}", returns(a.Person, person)),
    Route("/persons/{id}", returns(a.PersonErased, delete_person), methods=["DELETE"]),
    Route("/persons/{id}/export", returns(a.PersonExport, export_person)),
    Route("/person", returns(a.Person, view_person)),
    Route("/person", returns(a.PersonErased, delete_person), methods=["DELETE"]),
    Route("/person/export", returns(a.PersonExport, export_person)),
]
