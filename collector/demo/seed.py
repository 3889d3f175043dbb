"""Fill the `demo` site with planned journeys, posted through the collector's real /v1/batch.

Each visit is one POST into the ASGI app in this process, as the browser SDK would send it: the
visit's user agent, and its address in X-Forwarded-For. The app runs with the bundled demo GeoIP
database and trusts 127.0.0.1 as a proxy, and the in-process "socket peer" is 127.0.0.1: the
seeder is a reverse proxy in front of the collector, so ingest does its usual work (validation,
device, geo, channel, sessions) on exactly the path real traffic takes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collector import asgi
from collector.app import create_app
from collector.config import Settings
from collector.demo.commands import DEFAULT_BASE_URL, MAX_DAYS
from collector.demo.journeys import HOUR_MS, Plan, Visit, plan
from collector.demo.places import GEO_DB
from collector.demo.shop import DEMO_KEY, DEMO_SECRET, DEMO_SITE
from collector.store import Store, open_store
from collector.wire import json_decoder, json_encoder

PROXY = "127.0.0.1"

BACKEND_UA = "trailmark-python/0.1.0 (demo shop backend)"


class SeedError(RuntimeError):
    """The collector refused part of the plan: a bug in the plan or in ingest."""


def plan_for(visitors: int, seed: int, *, days: int = MAX_DAYS, end_ms: int | None = None,
             base_url: str = DEFAULT_BASE_URL) -> Plan:
    """The plan `seed()` posts; `end_ms` defaults to the current hour so reruns within it match."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}: ingest refuses events older than {MAX_DAYS} days")
    if end_ms is None:
        end_ms = int(time.time() * 1000) // HOUR_MS * HOUR_MS
    return plan(visitors, seed, days=days, end_ms=end_ms, base_url=base_url)


def seed(store_url: str | Path, visitors: int = 500, seed: int = 1, *, days: int = MAX_DAYS,
         end_ms: int | None = None, base_url: str = DEFAULT_BASE_URL,
         progress: Callable[[int], None] | None = None) -> int:
    """Create the demo site if needed and post `visitors` people's journeys; returns events stored."""
    journeys = plan_for(visitors, seed, days=days, end_ms=end_ms, base_url=base_url)
    return post_plan(open_store(str(store_url), synchronous="NORMAL"), journeys, progress)


def post_plan(store: Store, journeys: Plan, progress: Callable[[int], None] | None = None) -> int:
    """Post every visit of a plan through /v1/batch of an in-process collector on `store`."""
    store.add_site(DEMO_SITE, "Demo shop", key=DEMO_KEY)
    store.new_secret(DEMO_SITE, DEMO_SECRET)
    settings = Settings(geoip=GEO_DB, trusted_proxies=(PROXY,), rate_limit=0.0, site_rate_limit=0.0)
    app = create_app(settings, store)
    return asyncio.run(_post_all(app, journeys.visits, progress))


async def _post_all(app: Any, visits: list[Visit], progress: Callable[[int], None] | None) -> int:
    accepted = 0
    # the app's own lifespan: the store's writer starts and, at the end, drains and stops
    async with app.router.lifespan_context(app):
        for visit in visits:
            status, answer = await _post(app, visit)
            rejected = answer.get("rejected") if isinstance(answer, dict) else None
            if status != 200 or rejected:
                raise SeedError(f"/v1/batch answered {status}: {answer!r} for visit {visit.session_id}")
            accepted += int(answer["accepted"])
            if progress is not None:
                progress(1)
    return accepted


async def _post(app: Any, visit: Visit) -> tuple[int, Any]:
    """A visit's browser events, then its shop backend's identify (vouched with the secret key)."""
    browser = [e for e in visit.events if e["type"] != "identify"]
    backend = [e for e in visit.events if e["type"] == "identify"]
    status, answer = await _send(app, DEMO_KEY, browser, visit.user_agent, visit.ip)
    if status == 200 and backend:
        status, vouched = await _send(app, DEMO_SECRET, backend, BACKEND_UA, visit.ip)
        answer = {"accepted": answer["accepted"] + vouched.get("accepted", 0),
                  "rejected": answer["rejected"] + vouched.get("rejected", [])}
    return status, answer


async def _send(app: Any, key: str, events: list[Any], user_agent: str, ip: str) -> tuple[int, Any]:
    """One POST /v1/batch through the ASGI interface, without sent_at: the times are history, not skew."""
    body = json_encoder.encode({"key": key, "events": events})
    status, answer = await asgi.call(app, "POST", "/v1/batch", body=body, client=(PROXY, 50000), headers=[
        (b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()),
        (b"user-agent", user_agent.encode()), (b"x-forwarded-for", ip.encode()),
    ])
    return status, json_decoder.decode(answer)
