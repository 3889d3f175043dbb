"""schemathesis against /openapi.json on a real uvicorn: no operation of /v1/* or /api/* answers a
5xx, and every answer of a documented status and type matches its documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import response_schema_conformance

from collector.app import create_app
from tests.support.collector import ADMIN_TOKEN, KEY, ThreadedServer, free_port, make_settings, make_store, read_rows

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db_path = tmp_path_factory.mktemp("openapi") / "trailmark.db"
    port = free_port()
    app = create_app(make_settings(db_path, synchronous="NORMAL"), make_store(db_path))
    with ThreadedServer(app, port):
        yield f"http://127.0.0.1:{port}", db_path


@pytest.fixture(scope="module")
def api_schema(served: tuple[str, Path]) -> Any:
    url, _ = served
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


def test_document_lists_ingest_and_api_operations(served: tuple[str, Path]) -> None:
    import httpx

    doc = httpx.get(f"{served[0]}/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    assert {"/v1/batch", "/v1/replay", "/v1/p.gif", "/api/sites", "/api/sessions"} <= set(doc["paths"])
    batch = doc["components"]["schemas"]["Batch"]
    assert batch["required"] == ["key", "events"]
    assert doc["components"]["schemas"]["Survey"]["properties"]["kind"]["enum"] == ["ces", "csat", "nps"]


def _operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_a_server_error(
    api_schema: Any, served: tuple[str, Path], mode: GenerationMode
) -> None:
    operations = _operations(api_schema)
    labels = {op.label for op in operations}
    assert {"POST /v1/batch", "POST /v1/replay", "GET /v1/p.gif", "GET /api/sessions"} <= labels
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def check(case: Any) -> None:
            if isinstance(case.body, dict) and "key" in case.body and case.path.startswith("/v1/"):
                case.body["key"] = KEY  # reach the validation and storage behind the key check too
            response = case.call(headers=HEADERS)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
            case.validate_response(response, checks=[response_schema_conformance], headers=HEADERS)

        check()
    # Hostile filters never damage the schema: the core tables are all still there.
    tables = {r["name"] for r in read_rows(served[1], "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"events", "sessions", "sites", "dead_letters", "persons", "identities"} <= tables
