"""The cases of docs/metrics.md for the concepts of collector/query/definitions.py, known by hand:
the Python definitions and every engine's SQL spelling must give these answers."""

from __future__ import annotations

# The cases, each from the sentence of docs/metrics.md it stands for.
BOUNCES = [(0, False, False), (1, True, True), (2, True, False), (3, True, False)]  # pageviews, viewed, bounced
CARTS = [  # cart adds, purchases, carted, abandoned
    (0, 0, False, False), (0, 1, False, False), (1, 0, True, True), (2, 0, True, True), (1, 1, True, False),
]
DEVICES = [  # viewport width -> bucket: mobile < 768 px <= tablet < 1024 px <= desktop
    (None, ""), (0, "mobile"), (767, "mobile"), (767.5, "mobile"), (768, "tablet"), (1023, "tablet"),
    (1023.9, "tablet"), (1024, "desktop"), (3840, "desktop"),
]
DAYS = [(0, 0), (86_399_999, 0), (86_400_000, 1), (1_700_000_000_000, 19_675)]  # 2023-11-14 22:13 UTC
YES_NO = [("1", True), ("true", True), ("YES", True), ("0", False), ("False", False), ("no", False),
          ("", None), ("2", None), ("maybe", None), (" 1", None)]
