"""The server adapter (`ServerConnection`: clickhouse-connect, what `clickhouse://` stores use) run
against a real ClickHouse: no server can run here, so its client is clickhouse-connect's own
in-process chDB backend, the same ClickHouse as `chdb://` stores behind the library's client API
(its Native inserts and reads, its query formats). The bench's shop traffic is written through
the writer and every bench question asked, in a child process per adapter (chdb serves one
engine per process); the answers must be the embedded adapter's, and the SQLite engine's."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from tests.support import ROOT

CHILD = textwrap.dedent(
    """
    import json, sys
    sys.path[:0] = [{root!r}, {bench!r}]
    import clickhouse_connect
    import msgspec
    import scale
    import collector.store.clickhouse.store as store_module
    from collector.store.clickhouse import ClickHouseStore
    from collector.store.clickhouse.client import ServerConnection

    adapter, path, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if adapter == "sqlite":
        from pathlib import Path
        from collector.store import open_store
    elif adapter == "server":
        def connect(target):
            conn = ServerConnection(target)
            # the client a server store gets, with the settings it asks for, on the in-process engine
            conn._connect = lambda **kw: clickhouse_connect.get_client(
                interface="chdb", path=path, settings=kw["settings"])
            return conn
        store_module.connect = connect
        url = "clickhouse://default:@127.0.0.1:8123/trailmark"
    else:
        url = "chdb://" + path
    store = None if adapter == "sqlite" else ClickHouseStore(url)
    gen = scale.Generator(120, start=start)
    # each session in two halves, in groups far apart: the second group reads its rows back
    halves = [[], []]
    for n in range(120):
        batch = gen.session(n)
        cut = len(batch.events) // 2
        for half, events in zip(halves, (batch.events[:cut], batch.events[cut:])):
            half.append(msgspec.structs.replace(batch, events=events))
    batches = halves[0] + halves[1]
    groups = [batches[k:k + 40] for k in range(0, len(batches), 40)]
    if store is None:
        scale.load_sqlite(Path(path), groups)
        store = open_store("sqlite://" + path)
    else:
        scale.load_clickhouse(store, groups)
    print(json.dumps({{name: case(store) for name, case in scale.cases(start).items()}}, default=str))
    store.close()
    """
).format(root=str(ROOT), bench=str(ROOT / "bench"))


def _answers(adapter: str, path: Path, start: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", CHILD, adapter, str(path), str(start)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    answers: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answers


def test_the_server_adapter_answers_every_bench_question_as_the_embedded_one(tmp_path: Path) -> None:
    start = (int(time.time() * 1000) // 86_400_000 - 59) * 86_400_000
    server = _answers("server", tmp_path / "server", start)
    embedded = _answers("chdb", tmp_path / "embedded", start)
    assert len(server) == 20 and server["funnel_3_steps"]["steps"][0]["visitors"] > 10
    # Equal as JSON values: clickhouse-connect gives a Float64 as a float (20.0), chdb's JSON an
    # integral one as an integer (20); the API's answer types make both 20.0.
    assert server == embedded


def test_the_bench_questions_are_answered_alike_on_sqlite_and_chdb(tmp_path: Path) -> None:
    # the bench's own traffic (bench/scale.py checks the same at scale): rage clicks, surveys,
    # purchases, bots, sessions written in two groups
    start = (int(time.time() * 1000) // 86_400_000 - 59) * 86_400_000
    on_sqlite = _answers("sqlite", tmp_path / "bench.db", start)
    embedded = _answers("chdb", tmp_path / "embedded", start)
    assert sum(s["friction"]["rage_clicks"] for s in on_sqlite["journey_map_7d"]["stages"]) > 0
    assert on_sqlite == embedded
