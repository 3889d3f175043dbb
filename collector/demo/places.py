"""Where demo visitors come from: one city per country and the address block the demo GeoIP maps to it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

GEO_DB = Path(__file__).parent / "geo-demo.mmdb"


@dataclass(frozen=True)
class Place:
    country: str
    country_name: str
    region: str
    city: str
    timezone: str
    lat: float
    lon: float
    network: str  # globally routable, so the collector's geo lookup does not skip it
    weight: int  # share of visitors, out of the sum of weights

    def address(self, index: int) -> str:
        """The index-th host address of the block (wraps around)."""
        net = ipaddress.ip_network(self.network)
        return str(net.network_address + 1 + index % (net.num_addresses - 2))


PLACES = (
    Place("DE", "Germany", "Berlin", "Berlin", "Europe/Berlin", 52.52, 13.40, "85.214.0.0/16", 22),
    Place("GB", "United Kingdom", "England", "London", "Europe/London", 51.51, -0.09, "81.2.69.0/24", 18),
    Place("US", "United States", "California", "San Francisco", "America/Los_Angeles", 37.77, -122.42,
          "73.162.0.0/16", 16),
    Place("FR", "France", "Île-de-France", "Paris", "Europe/Paris", 48.86, 2.35, "90.84.0.0/16", 10),
    Place("NL", "Netherlands", "North Holland", "Amsterdam", "Europe/Amsterdam", 52.37, 4.90, "145.53.0.0/16", 8),
    Place("SE", "Sweden", "Stockholm", "Stockholm", "Europe/Stockholm", 59.33, 18.07, "78.70.0.0/16", 7),
    Place("ES", "Spain", "Madrid", "Madrid", "Europe/Madrid", 40.42, -3.70, "88.26.0.0/16", 6),
    Place("CA", "Canada", "Ontario", "Toronto", "America/Toronto", 43.65, -79.38, "24.114.0.0/16", 5),
    Place("AU", "Australia", "New South Wales", "Sydney", "Australia/Sydney", -33.87, 151.21, "1.128.0.0/16", 4),
    Place("JP", "Japan", "Tokyo", "Tokyo", "Asia/Tokyo", 35.69, 139.69, "126.0.0.0/16", 4),
)
