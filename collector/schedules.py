"""Scheduled e-mail reports (weekly or monthly: the overview, goals, CX scores) and alerts (a
metric above or below a threshold, or moved by a share against its usual level), sent through
the operator's SMTP server, an alert also or instead to a signed webhook (triggers/alerts.py).
The collector checks what is due every few minutes."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from collector.query.days import DAY_MS
from collector.query.definitions import yes_no
from collector.query.scope import build_scope
from collector.store import Store
from collector.triggers import alerts

log = logging.getLogger("trailmark.reports")
CHECK_EVERY_S = 300.0
ALERT_METRICS = ("visitors", "conversion_rate", "errors", "nps")
PERIODS = ("weekly", "monthly")


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    user: str
    password: str
    sender: str
    tls: bool = False
    starttls: bool = False

    @classmethod
    def parse(cls, url: str) -> Smtp:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("TRAILMARK_SMTP_URL must look like smtp://user:password@host:port?from=reports@example.com")
        query = parse_qs(parts.query)
        sender = query.get("from", [""])[0] or f"trailmark@{parts.hostname}"
        return cls(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25),
                   unquote(parts.username or ""), unquote(parts.password or ""), sender,
                   tls=parts.scheme == "smtps", starttls=yes_no(query.get("starttls", ["0"])[0]) is True)

    def send(self, recipients: list[str], subject: str, text: str, html: str) -> None:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = subject, self.sender, ", ".join(recipients)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        context = ssl.create_default_context()
        client = (smtplib.SMTP_SSL(self.host, self.port, timeout=30, context=context) if self.tls
                  else smtplib.SMTP(self.host, self.port, timeout=30))
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password)
            client.send_message(message)


def _day_start(now: float) -> dt.datetime:
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def period_of(period: str, now: float) -> tuple[int, int]:
    """The last whole week (Monday to Sunday) or month before `now`, in ms."""
    today = _day_start(now)
    if period == "weekly":
        end = today - dt.timedelta(days=today.weekday())
        start = end - dt.timedelta(days=7)
    else:
        end = today.replace(day=1)
        start = (end - dt.timedelta(days=1)).replace(day=1)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def due(schedule: dict[str, Any], now: float) -> bool:
    """A report is due once per period (after the period ends); an alert is checked once a day."""
    last_sent: int = schedule["last_sent"]
    if schedule["kind"] == "alert":
        return last_sent < _day_start(now).timestamp()
    return last_sent * 1000 < period_of(schedule["settings"]["period"], now)[1]


def _site(store: Store, site_id: str) -> Any:
    return next((s for s in store.sites() if s.id == site_id), None)


def report(store: Store, site_id: str, period: str, now: float) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a site's report for the last whole week or month."""
    site = _site(store, site_id)
    start, end = period_of(period, now)
    scope = build_scope(site_id, site.settings, start, end, {})
    overview = store.overview(scope)
    cx = store.surveys(scope, None)
    metrics = overview["metrics"]
    first = dt.datetime.fromtimestamp(start / 1000, dt.UTC).date()
    last = dt.datetime.fromtimestamp(end / 1000 - 1, dt.UTC).date()
    title = f"{site.name}: {'week' if period == 'weekly' else 'month'} of {first:%d %b} to {last:%d %b %Y}"

    def pct(v: Any) -> str:
        return "–" if v is None else f"{v * 100:.1f}%"

    def change(name: str) -> str:
        moved = metrics[name]["change"]
        return "" if moved is None else f" ({'+' if moved >= 0 else ''}{moved * 100:.0f}% on the period before)"

    rows = [
        ("Visitors", f"{metrics['visitors']['value']:,}", change("visitors")),
        ("Sessions", f"{metrics['sessions']['value']:,}", change("sessions")),
        ("Pageviews", f"{metrics['pageviews']['value']:,}", change("pageviews")),
        ("Bounce rate", pct(metrics["bounce_rate"]["value"]), ""),
        ("Goal conversion", pct(metrics["conversion_rate"]["value"]), change("conversion_rate")),
    ]
    for kind in ("nps", "csat", "ces"):
        score = cx.get(kind, {})
        if score.get("responses"):
            rows.append((f"{kind.upper()} score", f"{score['score']:.1f}" if score["score"] is not None else "–",
                         f" ({score['responses']} answers)"))
    pages = overview.get("pages", [])[:5]
    text = "\n".join([title, "", *(f"{label}: {value}{note}" for label, value, note in rows), "",
                      "Top pages:", *(f"  {p['name']}: {p['pageviews']:,}" for p in pages)]) + "\n"
    html = (f"<h1 style='font:600 18px sans-serif'>{escape(title)}</h1><table style='font:14px sans-serif'>"
            + "".join(f"<tr><th align='left'>{escape(label)}</th><td>{escape(value)}</td>"
                      f"<td style='color:#64748b'>{escape(note)}</td></tr>" for label, value, note in rows)
            + "</table><h2 style='font:600 15px sans-serif'>Top pages</h2><ol style='font:14px sans-serif'>"
            + "".join(f"<li>{escape(str(p['name']))}: {p['pageviews']:,}</li>" for p in pages) + "</ol>")
    return f"Trailmark report · {title}", text, html


def metric_value(store: Store, site_id: str, metric: str, start: int, end: int) -> float | None:
    site = _site(store, site_id)
    scope = build_scope(site_id, site.settings, start, end, {})
    if metric == "errors":
        return float(store.count_events(site_id, "error", start, end))
    if metric == "nps":
        score = store.surveys(scope, None)["nps"]
        return None if not score.get("responses") else float(score["score"])
    value = store.overview(scope)["metrics"][metric]["value"]
    return None if value is None else float(value)


@dataclass(frozen=True)
class Reading:
    """What an alert's check found: yesterday's value and why it is unusual."""

    metric: str
    value: float
    usual: float | None  # the mean of the seven days before, when the alert watches a move
    reasons: list[str]
    start: int  # the day read, in ms
    end: int


def check_alert(store: Store, schedule: dict[str, Any], now: float) -> Reading | None:
    """Yesterday's reading when it crossed the alert's line or moved by its share against the
    mean of the seven days before; None when all is as usual."""
    rule, site_id = schedule["settings"], schedule["site"]
    end = int(_day_start(now).timestamp() * 1000)
    value = metric_value(store, site_id, rule["metric"], end - DAY_MS, end)
    if value is None:
        return None
    reasons = []
    if rule.get("above") is not None and value > rule["above"]:
        reasons.append(f"above {rule['above']:g}")
    if rule.get("below") is not None and value < rule["below"]:
        reasons.append(f"below {rule['below']:g}")
    mean = None
    if rule.get("change") is not None:
        days = [metric_value(store, site_id, rule["metric"], end - (d + 1) * DAY_MS, end - d * DAY_MS)
                for d in range(1, 8)]
        usual = [d for d in days if d is not None]
        mean = sum(usual) / len(usual) if usual else None
        if mean and abs(value - mean) / mean >= rule["change"]:
            reasons.append(f"{(value - mean) / mean * 100:+.0f}% against its usual {mean:.4g}")
    if not reasons:
        return None
    return Reading(rule["metric"], value, mean, reasons, end - DAY_MS, end)


def summary(site_name: str, reading: Reading) -> str:
    """The alert in a sentence, as its e-mail and its webhook say it."""
    return f"{reading.metric} on {site_name} was {reading.value:.4g} yesterday: {' and '.join(reading.reasons)}."


def alert_mail(site_name: str, reading: Reading) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of an alert that fired."""
    line = summary(site_name, reading)
    return (f"Trailmark alert · {site_name}: {reading.metric} {reading.reasons[0]}", line + "\n",
            f"<p>{escape(line)}</p>")


def send_due(store: Store, smtp: Smtp | None, now: float | None = None) -> int:
    """Send every report and alert that is due: e-mails through `smtp`, an alert's webhook through
    the triggers outbox. The number of reports and alerts that went out (by e-mail, webhook or both).

    Without an SMTP server, what would only be e-mailed waits: set up later, it sends the last
    period's report rather than skip it."""
    now = time.time() if now is None else now
    sent = 0
    for schedule in store.schedules():
        webhook = schedule["settings"].get("webhook")
        mails = smtp is not None and bool(schedule["recipients"])
        site = _site(store, schedule["site"])
        if site is None or not due(schedule, now) or not (mails or webhook):
            continue
        if schedule["kind"] == "report":
            assert smtp is not None
            smtp.send(schedule["recipients"], *report(store, schedule["site"], schedule["settings"]["period"], now))
            sent += 1
        else:
            reading = check_alert(store, schedule, now)
            if reading is not None:
                # A disabled webhook queues nothing, as a disabled trigger fires nothing.
                went = bool(webhook) and alerts.queue(store, schedule, reading, summary(site.name, reading), now)
                if mails:
                    assert smtp is not None
                    smtp.send(schedule["recipients"], *alert_mail(site.name, reading))
                sent += went or mails
        store.schedule_sent(schedule["id"], int(now))
    return sent


async def loop(store: Store, smtp_url: str | None) -> None:
    """The collector's background sender: a failing SMTP server is logged and tried again later."""
    smtp = None if smtp_url is None else Smtp.parse(smtp_url)
    while True:
        try:
            await asyncio.to_thread(send_due, store, smtp)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("report e-mail not sent (will retry): %s", exc)
        except Exception:  # noqa: BLE001 - a store fault passes; the loop must not die
            log.exception("checking reports and alerts failed; trying again later")
        await asyncio.sleep(CHECK_EVERY_S)
