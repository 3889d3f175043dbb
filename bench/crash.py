"""Crash safety: SIGKILL a real `trailmark serve` several times while the Python SDK and raw clients send.

After the last restart every acknowledged event must be stored exactly once, nothing unsent may appear,
and the SDK (which retries) must have delivered exactly what it was given. Prints `RESULT crash: ...`.

    .venv/bin/python bench/crash.py [--kills 10] [--interval 1.5] [--clients 4] [--quick] [--chdb]

With --chdb the collector keeps everything in ClickHouse in its process (chdb) instead of SQLite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.crash import ok, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.5, help="seconds of traffic between kills")
    parser.add_argument("--clients", type=int, default=4, help="concurrent raw HTTP clients")
    parser.add_argument("--batch", type=int, default=20, help="events per raw batch")
    parser.add_argument("--sdk-rate", type=float, default=500, help="SDK track() calls per second")
    parser.add_argument("--quick", action="store_true", help="3 kills")
    parser.add_argument("--chdb", action="store_true", help="the collector on a chdb store instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp) / "crash.db", kills=3 if args.quick else args.kills, interval=args.interval,
                     clients=args.clients, batch=args.batch, sdk_rate=args.sdk_rate, chdb=args.chdb)
    for key, value in result.items():
        print(f"  {key}: {value}")
    print(
        f"RESULT crash: kills={result['kills']} raw_acked={result['raw_acked']} "
        f"lost_or_duplicated={result['raw_acked_not_exactly_once'] + result['duplicates']} "
        f"sdk_sent={result['sdk_sent']} sdk_delivered={result['sdk_delivered']} stored={result['stored']} "
        f"restart={result['restart_seconds']:.2f}s integrity={result['integrity']} "
        f"{'OK' if ok(result) else 'FAIL'}"
    )
    return 0 if ok(result) else 1


if __name__ == "__main__":
    sys.exit(main())
