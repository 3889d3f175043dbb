"""Settings, frozen, from CLI flags and the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from collector.triggers.service import Policy


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


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
    max_pending: int = 100_000
    synchronous: str = "FULL"
    static_dir: Path = Path(__file__).parent / "static"
    demo: bool = False
    # Journey trigger webhooks (docs/triggers.md), and the dashboard address their links use.
    webhooks: Policy = field(default_factory=Policy)
    public_url: str = ""

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
            "sensitive_params": tuple(
                p.strip() for p in env.get("TRAILMARK_SENSITIVE_PARAMS", "").split(",") if p.strip()
            ),
        }
        values["webhooks"] = Policy.from_env(env)
        values["public_url"] = env.get("TRAILMARK_PUBLIC_URL", "")
        if env.get("TRAILMARK_ADMIN_TOKEN"):
            values["admin_token"] = env["TRAILMARK_ADMIN_TOKEN"]
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
