"""Enrichment: pure functions that add device, geo, visitor, channel, time and route to events."""

from __future__ import annotations

from collector.enrich.acquisition import Acquisition, Channel, classify
from collector.enrich.clock import MAX_AGE_MS, TOO_OLD, correct_ts, guess_sent_at, ts_problem
from collector.enrich.device import Device, parse_device
from collector.enrich.geo import EMPTY_GEO, Geo, GeoReader
from collector.enrich.proxies import TrustedProxies, client_ip, parse_trusted_proxies
from collector.enrich.routes import route_for
from collector.enrich.urls import DEFAULT_SENSITIVE_PARAMS, parse_param_names, strip_sensitive
from collector.enrich.visitor import Salts, utc_day, visitor_hash

__all__ = [
    "DEFAULT_SENSITIVE_PARAMS",
    "EMPTY_GEO",
    "MAX_AGE_MS",
    "TOO_OLD",
    "Acquisition",
    "Channel",
    "Device",
    "Geo",
    "GeoReader",
    "Salts",
    "TrustedProxies",
    "classify",
    "client_ip",
    "correct_ts",
    "guess_sent_at",
    "parse_device",
    "parse_param_names",
    "parse_trusted_proxies",
    "route_for",
    "strip_sensitive",
    "ts_problem",
    "utc_day",
    "visitor_hash",
]
