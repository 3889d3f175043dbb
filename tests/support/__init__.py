"""What tests share: the collector under test (collector.py, fixtures.py), a browser (browser.py),
a webhook receiver, GeoIP files, traffic builders. Tests import from here, never from each other."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
