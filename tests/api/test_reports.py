"""Scheduled reports and alerts, sent to a real SMTP server (aiosmtpd) on 127.0.0.1, from every store."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from starlette.testclient import TestClient

from collector.app import create_app
from collector.config import smtp_url_from
from collector.schedules import Smtp, period_of, send_due
from collector.triggers import signing
from tests.support.analytics_journeys import DAY_MS, D, build
from tests.support.collector import Client, every_store, free_port, make_settings, open_engine
from tests.support.receiver import Receiver, wait_for
from tests.support.triggers import FAST


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, str]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}?from=reports@example.com"
    finally:
        controller.stop()


@pytest.fixture
def mailing(
    tmp_path: Path, inbox: tuple[Inbox, str], engine: str, request: pytest.FixtureRequest,
) -> Iterator[Client]:
    db_path = tmp_path / "trailmark.db"
    store = open_engine(engine, tmp_path, request)
    app = create_app(make_settings(db_path, smtp_url=inbox[1]), store)
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        yield Client(http, db_path, store, engine)


def _parts(message: Message) -> dict[str, str]:
    return {part.get_content_type(): part.get_payload(decode=True).decode()  # type: ignore[union-attr]
            for part in message.walk() if not part.is_multipart()}


def _week_after(ms: int) -> float:
    """An instant in the week after the one holding `ms`: that week is then the last whole week."""
    day = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()
    monday = day + dt.timedelta(days=7 - day.weekday())
    return dt.datetime(monday.year, monday.month, monday.day, 1, tzinfo=dt.UTC).timestamp()


@every_store
def test_a_weekly_report_mails_the_overview_goals_and_cx_in_html_and_text(
    mailing: Client, inbox: tuple[Inbox, str],
) -> None:
    build(mailing)
    made = mailing.http.post("/api/reports", params={"site": "test"}, headers=mailing.admin,
                             json={"kind": "report", "period": "weekly", "recipients": ["Boss@Example.com"]})
    assert made.status_code == 200, made.text
    now = _week_after(D)
    start, end = period_of("weekly", now)
    first, last = (dt.datetime.fromtimestamp(t / 1000, dt.UTC).date().isoformat() for t in (start, end - 1))
    expected = mailing.http.get(f"/api/overview?site=test&from={first}&to={last}", headers=mailing.admin).json()
    store = mailing.http.app.state.store  # type: ignore[attr-defined]
    assert send_due(store, Smtp.parse(inbox[1]), now) == 1
    assert send_due(store, Smtp.parse(inbox[1]), now + 3600) == 0  # once per week
    (recipients, message), = inbox[0].mails
    assert recipients == ["boss@example.com"]
    assert message["From"] == "reports@example.com"
    assert message["Subject"].startswith("Trailmark report · Test site: week of ")
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    visitors = expected["metrics"]["visitors"]["value"]
    assert visitors > 0
    assert f"Visitors: {visitors:,}" in parts["text/plain"]
    conversion = expected["metrics"]["conversion_rate"]["value"]
    assert f"Goal conversion: {conversion * 100:.1f}%" in parts["text/plain"]
    assert f"<th align='left'>Visitors</th><td>{visitors:,}</td>" in parts["text/html"]
    top = expected["pages"][0]
    assert f"  {top['name']}: {top['pageviews']:,}" in parts["text/plain"]
    # The next week is due again.
    assert send_due(store, Smtp.parse(inbox[1]), now + 7 * 86400) == 1


@every_store
def test_alerts_fire_on_a_threshold_or_a_move_against_the_usual_level(
    mailing: Client, inbox: tuple[Inbox, str],
) -> None:
    build(mailing)  # four visitors on day D, one on the day before

    def add(**rule: object) -> None:
        body = {"kind": "alert", "recipients": ["ops@example.com"], "metric": "visitors", **rule}
        answer = mailing.http.post("/api/reports", params={"site": "test"}, headers=mailing.admin, json=body)
        assert answer.status_code == 200, answer.text

    add(above=3)
    add(below=2)  # does not hold: 4 is not below 2
    add(change=1.0)  # 4 against a usual (7-day mean) of 1/7: moved by far more than 100%
    store = mailing.http.app.state.store  # type: ignore[attr-defined]
    day_after = (D + DAY_MS) / 1000 + 3600
    assert send_due(store, Smtp.parse(inbox[1]), day_after) == 2
    subjects = sorted(str(m["Subject"]) for _, m in inbox[0].mails)
    assert subjects == ["Trailmark alert · Test site: visitors +2700% against its usual 0.1429",
                        "Trailmark alert · Test site: visitors above 3"]
    bodies = [_parts(m)["text/plain"] for _, m in inbox[0].mails]
    assert "visitors on Test site was 4 yesterday: above 3.\r\n" in bodies
    assert send_due(store, Smtp.parse(inbox[1]), day_after + 60) == 0  # once a day at most


@every_store
def test_report_settings_are_checked_and_an_unreachable_server_is_a_clear_error(
    tmp_path: Path, mailing: Client, request: pytest.FixtureRequest,
) -> None:
    def post(body: dict[str, object]) -> tuple[int, str]:
        answer = mailing.http.post("/api/reports", params={"site": "test"}, headers=mailing.admin, json=body)
        return answer.status_code, answer.json().get("error", "")

    assert post({"kind": "report", "period": "daily", "recipients": ["a@b.c"]}) == (
        400, "period must be one of weekly, monthly")
    assert post({"kind": "report", "recipients": ["not an address"]})[0] == 400
    assert post({"kind": "alert", "metric": "visitors", "recipients": ["a@b.c"]}) == (
        400, "an alert needs above, below or change (a share such as 0.3)")
    assert post({"kind": "alert", "metric": "mood", "above": 1, "recipients": ["a@b.c"]})[0] == 400
    down = tmp_path / "down"
    down.mkdir()
    dead = f"smtp://127.0.0.1:{free_port()}"
    app = create_app(make_settings(down / "trailmark.db", smtp_url=dead), open_engine(mailing.engine, down, request))
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        made = http.post("/api/reports", params={"site": "test"}, headers=mailing.admin,
                         json={"kind": "report", "recipients": ["a@b.c"]}).json()
        answer = http.post(f"/api/reports/{made['id']}/send", params={"site": "test"}, headers=mailing.admin)
        assert answer.status_code == 502 and answer.json()["error"].startswith("the SMTP server refused")
        listed = http.get("/api/reports", params={"site": "test"}, headers=mailing.admin).json()
        assert [s["id"] for s in listed["schedules"]] == [made["id"]] and listed["smtp"] is True
        assert http.delete(f"/api/reports/{made['id']}", params={"site": "test"},
                           headers=mailing.admin).json() == {"deleted": made["id"]}


def test_smtp_settings_from_the_environment() -> None:
    assert smtp_url_from({}) is None
    assert smtp_url_from({"TRAILMARK_SMTP_URL": "smtps://u:p@mail.example:465"}) == "smtps://u:p@mail.example:465"
    url = smtp_url_from({"TRAILMARK_SMTP_HOST": "mail.example", "TRAILMARK_SMTP_PORT": "587",
                         "TRAILMARK_SMTP_USER": "me@example.com", "TRAILMARK_SMTP_PASSWORD": "p@ss:word",
                         "TRAILMARK_SMTP_FROM": "reports@example.com"})
    assert url is not None
    smtp = Smtp.parse(url + "&starttls=1")
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.sender, smtp.tls, smtp.starttls) == (
        "mail.example", 587, "me@example.com", "p@ss:word", "reports@example.com", False, True)
    with pytest.raises(ValueError, match="TRAILMARK_SMTP_URL must look like"):
        Smtp.parse("http://mail.example")


@every_store
def test_an_alert_can_mail_and_post_its_webhook_at_once(
    tmp_path: Path, inbox: tuple[Inbox, str], engine: str, request: pytest.FixtureRequest,
) -> None:
    db_path = tmp_path / "trailmark.db"
    settings = make_settings(db_path, smtp_url=inbox[1], webhooks=FAST)
    app = create_app(settings, open_engine(engine, tmp_path, request))
    with Receiver() as receiver, TestClient(app, base_url="http://127.0.0.1:8000") as http:
        client = Client(http, db_path, app.state.store, engine)
        build(client)  # four visitors on day D
        made = http.post("/api/reports", params={"site": "test"}, headers=client.admin, json={
            "kind": "alert", "metric": "visitors", "above": 3, "recipients": ["ops@example.com"],
            "webhook": receiver.url}).json()
        assert send_due(app.state.store, Smtp.parse(inbox[1]), (D + DAY_MS) / 1000 + 3600) == 1
        ((recipients, message),) = inbox[0].mails
        assert recipients == ["ops@example.com"]
        assert message["Subject"] == "Trailmark alert · Test site: visitors above 3"
        (got,) = wait_for(lambda: receiver.answered(), "the alert's webhook")
        assert signing.verify(made["secret"], got.headers["trailmark-signature"], got.body)
        assert got.json["summary"] == "visitors on Test site was 4 yesterday: above 3."
        assert got.json["period"]["start"] == D
