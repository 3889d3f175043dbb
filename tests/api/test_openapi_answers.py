"""Every /api route declares the type of its answer, /openapi.json documents each with that type's
schema, and an answer that drifts from its type is a fault of ours, never a silently wrong answer."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from starlette.routing import Route

from collector.api.openapi import document, walk
from collector.app import create_app
from collector.query import answers
from collector.replies import Csv, answer_bytes
from tests.support.collector import make_settings, make_store


@pytest.fixture
def app(tmp_path: Any) -> Any:
    db_path = tmp_path / "trailmark.db"
    return create_app(make_settings(db_path), make_store(db_path))


def api_routes(app: Any) -> list[tuple[str, Route]]:
    found = [(path, route) for path, route in walk(app.routes) if path.startswith("/api/")]
    assert len(found) > 40  # the walk follows Mount("/api")
    return found


def test_every_api_route_declares_its_answer(app: Any) -> None:
    undeclared = [path for path, route in api_routes(app) if not hasattr(route.endpoint, "answer")]
    assert undeclared == []
    for path, route in api_routes(app):
        answer = route.endpoint.answer
        if answer is Csv:
            continue
        # a msgspec Struct (those of collector/query/answers forbid unknown fields), or a tagged union
        kinds = getattr(answer, "__args__", (answer,))
        assert all(issubclass(k, msgspec.Struct) for k in kinds), path
        msgspec.json.schema(answer)  # a type msgspec can describe and decode


def test_the_document_references_each_declared_answer(app: Any) -> None:
    doc = document(app.routes)
    schemas = doc["components"]["schemas"]
    assert not [name for name in schemas if "." in name], "two types share a name: msgspec qualified them"
    assert schemas["Batch"]["required"] == ["key", "events"]  # the ingest schemas keep their names
    for path, route in api_routes(app):
        for method in (route.methods or {"GET"}) - {"HEAD"}:
            operation = doc["paths"][path][method.lower()]
            status = str(route.endpoint.answer_status)
            content = operation["responses"][status]["content"]
            if route.endpoint.answer is Csv:
                assert content == {"text/csv": {"schema": {"type": "string"}}}, path
                continue
            schema = content["application/json"]["schema"]
            refs = [schema["$ref"]] if "$ref" in schema else [s["$ref"] for s in schema["anyOf"]]
            for ref in refs:
                assert ref.rsplit("/", 1)[1] in schemas, (path, ref)
    overview = doc["paths"]["/api/overview"]["get"]["responses"]["200"]["content"]
    assert overview["application/json"]["schema"] == {"$ref": "#/components/schemas/Overview"}
    assert "text/csv" in overview  # format=csv&table=NAME
    assert doc["paths"]["/api/goals"]["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Goal"}
    figure = schemas["Figure"]
    assert figure["required"] == ["value", "previous", "change"]
    assert figure["properties"]["change"] == {"anyOf": [{"type": "number"}, {"type": "null"}]}
    assert schemas["Overview"]["additionalProperties"] is False
    person = schemas["Person"]
    assert "timeline" in person["properties"] and "timeline" not in person["required"]


def test_a_drifted_answer_fails_instead_of_losing_a_field() -> None:
    with pytest.raises(TypeError, match=r"not a Deleted: Object contains unknown field `extra`"):
        answer_bytes({"deleted": 1, "extra": 2}, answers.Deleted)
    with pytest.raises(TypeError, match=r"Expected `int`, got `str` - at `\$.deleted`"):
        answer_bytes({"deleted": "1"}, answers.Deleted)
    with pytest.raises(TypeError, match=r"Object missing required field `change` - at `\$.metrics.visitors`"):
        answer_bytes({"metrics": {"visitors": {"value": 1, "previous": 0}}}, answers.Overview)


def test_an_answer_is_written_as_its_type() -> None:
    # a float field an engine gave as a whole number is written as a float: the same on every engine
    row = msgspec.json.decode(answer_bytes({"value": 0, "previous": 3, "change": None}, answers.reports.Figure))
    assert answer_bytes({"value": 0, "previous": 3, "change": None}, answers.reports.Figure) == (
        b'{"value":0,"previous":3,"change":null}')  # Number: whole numbers stay whole
    assert row == {"value": 0, "previous": 3, "change": None}
    assert answer_bytes({"step": 1, "source": "/", "target": "/cart", "sessions": 2},
                        answers.reports.PathLink) == b'{"step":1,"source":"/","target":"/cart","sessions":2}'
    assert answer_bytes({"sku": "A", "name": None, "quantity": 1, "revenue": 20, "orders": 1},
                        answers.reports.Product) == b'{"sku":"A","name":null,"quantity":1,"revenue":20.0,"orders":1}'
