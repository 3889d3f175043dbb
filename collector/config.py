"""Settings, frozen, from CLI flags and the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from collector.assets.fetch import Limits as AssetLimits
from collector.query.definitions import yes_no
from collector.triggers.service import Policy

MIB = 1024 * 1024


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def smtp_url_from(env: Mapping[str, str]) -> str | None:
    """TRAILMARK_SMTP_URL, or one built from TRAILMARK_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM."""
    if env.get("TRAILMARK_SMTP_URL"):
        return env["TRAILMARK_SMTP_URL"]
    host = env.get("TRAILMARK_SMTP_HOST")
    if not host:
        return None
    user, password = env.get("TRAILMARK_SMTP_USER", ""), env.get("TRAILMARK_SMTP_PASSWORD", "")
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
    sender = quote(env.get("TRAILMARK_SMTP_FROM", ""), safe="@")
    port = env.get("TRAILMARK_SMTP_PORT", "25")
    return f"smtp://{auth}{host}:{port}" + (f"?from={sender}" if sender else "")


# 20 random-looking characters are over 100 bits: out of reach of any online guessing.
MIN_TOKEN_CHARS = 20


@dataclass(frozen=True, kw_only=True)
class Settings:
    # Where everything is kept: a store URL (docs/deployment.md); `db` is short for sqlite:///db.
    store: str = ""
    db: Path = Path("trailmark.db")
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    geoip: Path | None = None
    trusted_proxies: tuple[str, ...] = ()
    # Query parameters removed from stored URLs; empty keeps the default list (docs/privacy.md).
    sensitive_params: tuple[str, ...] = ()
    # Requests per second per client IP (0 disables); a burst of twice that is allowed.
    rate_limit: float = 50.0
    # Requests per second per site (0 disables).
    site_rate_limit: float = 0.0
    # Compressed replay bytes a site may store per UTC hour and per UTC day (0 disables either).
    # 17 KiB per recorded minute (BENCHMARKS.md): 512 MiB is about 30,000 recorded minutes an hour.
    replay_site_hour_bytes: int = 512 * MIB
    replay_site_day_bytes: int = 4096 * MIB
    max_pending: int = 100_000
    synchronous: str = "FULL"
    static_dir: Path = Path(__file__).parent / "static"
    demo: bool = False
    # Copies of the assets recordings load (docs/replay.md, "Asset copies").
    asset_copies: AssetLimits = field(default_factory=AssetLimits)
    # Journey trigger webhooks (docs/triggers.md), and the dashboard address their links use.
    webhooks: Policy = field(default_factory=Policy)
    public_url: str = ""
    # /metrics answers a Bearer admin token or this token; `metrics_public` opens it to anyone.
    metrics_token: str | None = None
    metrics_public: bool = False
    # Where report and alert e-mails go out: smtp://user:password@host:port?from=a@b (smtps:// for
    # TLS from the first byte, ?starttls=1 to upgrade); None sends nothing (docs/dashboard.md).
    smtp_url: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from TRAILMARK_* variables; explicit overrides (CLI flags) win."""
        env = os.environ
        values: dict[str, object] = {
            "store": env.get("TRAILMARK_STORE", ""),
            "db": Path(env.get("TRAILMARK_DB", "trailmark.db")),
            "rate_limit": _env_float("TRAILMARK_RATE_LIMIT", 50.0),
            "site_rate_limit": _env_float("TRAILMARK_SITE_RATE_LIMIT", 0.0),
            "trusted_proxies": tuple(
                p.strip() for p in env.get("TRAILMARK_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            "synchronous": env.get("TRAILMARK_SYNC", "FULL").upper(),
            "replay_site_hour_bytes": int(_env_float("TRAILMARK_REPLAY_HOURLY_MB", 512) * MIB),
            "replay_site_day_bytes": int(_env_float("TRAILMARK_REPLAY_DAILY_MB", 4096) * MIB),
            "sensitive_params": tuple(
                p.strip() for p in env.get("TRAILMARK_SENSITIVE_PARAMS", "").split(",") if p.strip()
            ),
        }
        values["webhooks"] = Policy.from_env(env)
        values["asset_copies"] = AssetLimits(
            allow_private=yes_no(env.get("TRAILMARK_ASSETS_ALLOW_PRIVATE", "")) is True,
            max_bytes=int(_env_float("TRAILMARK_ASSETS_MAX_MB", AssetLimits.max_bytes / MIB) * MIB),
            timeout_s=_env_float("TRAILMARK_ASSETS_TIMEOUT", AssetLimits.timeout_s),
        )
        values["public_url"] = env.get("TRAILMARK_PUBLIC_URL", "")
        if env.get("TRAILMARK_ADMIN_TOKEN"):
            values["admin_token"] = env["TRAILMARK_ADMIN_TOKEN"]
            # A correct token is never locked out at login, so its length is what stops guessing.
            assert len(env["TRAILMARK_ADMIN_TOKEN"].strip()) >= MIN_TOKEN_CHARS, (
                f"TRAILMARK_ADMIN_TOKEN must be at least {MIN_TOKEN_CHARS} characters:"
                " use `openssl rand -base64 24`"
            )
        if env.get("TRAILMARK_METRICS_TOKEN"):
            values["metrics_token"] = env["TRAILMARK_METRICS_TOKEN"]
        values["metrics_public"] = yes_no(env.get("TRAILMARK_METRICS_PUBLIC", "")) is True
        values["smtp_url"] = smtp_url_from(env)
        if env.get("TRAILMARK_GEOIP"):
            values["geoip"] = Path(env["TRAILMARK_GEOIP"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        assert settings.synchronous in ("FULL", "NORMAL", "EXTRA"), (
            f"TRAILMARK_SYNC must be FULL, NORMAL or EXTRA, not {settings.synchronous!r}"
        )
        return settings

    @property
    def store_url(self) -> str:
        return self.store or str(self.db)
