"""tests/support/analytics_journeys.py's journeys plus what the daily tools read, with known answers.

On day D (sessions s1..s5; the bot sb is left out):

- s1 (a1): referrer https://www.google.com/search?q=x, DE/BY; clicks button.buy on /product/1 (s3
  did on /product/2); signup {plan: pro}; LCP 1000, 2000,
  3000, 5000 on /; TypeError twice (app.js).
- s2 (u1): referrer https://news.example/, DE/BY; signup {plan: pro}; ReferenceError (vendor.js).
- s3 (u1): no referrer, DE/BE; signup {plan: free}; LCP 4500, CLS 0.05 and 0.3 on /product/2;
  TypeError once (app.js).
- s4 (a4): referrer https://news.example/item?id=3, FR/IDF.
- s5 (a5): no referrer, no region; video_play {}.

Entry pages: / (s1 s2 s4), /product/2 (s3), /checkout (s5). Exit pages: /product/1 (s1 s4), /, /product/2, /checkout.
"""

from __future__ import annotations

from tests.support.analytics_journeys import MIN, D, build, event, send, stamp_session_context
from tests.support.collector import Client

T1, T2, T3, T5 = D + 600 * MIN, D + 660 * MIN, D + 720 * MIN, D + 840 * MIN
TYPE_ERROR = "TypeError: x is undefined"
REFERENCE_ERROR = "ReferenceError: y is not defined"


def build_daily(client: Client) -> None:
    build(client)
    send(client, [
        event("track", T1 + 100_000, "s1", "a1", "/product/1", name="signup", props={"plan": "pro"}),
        event("click", T1 + 65_000, "s1", "a1", "/product/1", x=5, y=5, sel="button.buy"),
        *(event("vital", T1 + 1_000 + i, "s1", "a1", "/", name="LCP", value=v)
          for i, v in enumerate((1000, 2000, 3000, 5000))),
        event("error", T1 + 2_000, "s1", "a1", "/", message=TYPE_ERROR, source="https://shop.example/app.js"),
        event("error", T1 + 3_000, "s1", "a1", "/", message=TYPE_ERROR, source="https://shop.example/app.js"),
    ])
    send(client, [
        event("track", T2 + 10_000, "s2", "a2", "/", name="signup", props={"plan": "pro"}),
        event("error", T2 + 11_000, "s2", "a2", "/", message=REFERENCE_ERROR, source="https://shop.example/vendor.js"),
    ])
    send(client, [
        event("track", T3 + 30_000, "s3", "a3", "/product/2", name="signup", props={"plan": "free"}),
        event("vital", T3 + 1_000, "s3", "a3", "/product/2", name="LCP", value=4500),
        event("vital", T3 + 1_500, "s3", "a3", "/product/2", name="CLS", value=0.05),
        event("vital", T3 + 1_600, "s3", "a3", "/product/2", name="CLS", value=0.3),
        event("error", T3 + 2_000, "s3", "a3", "/product/2", message=TYPE_ERROR, source="https://shop.example/app.js"),
    ])
    send(client, [event("track", T5 + 5_000, "s5", "a5", "/checkout", name="video_play", props={})])
    for session_id, referrer, country, region in (
        ("s1", "https://www.google.com/search?q=x", "DE", "BY"),
        ("s2", "https://news.example/", "DE", "BY"),
        ("s3", None, "DE", "BE"),
        ("s4", "https://news.example/item?id=3", "FR", "IDF"),
    ):
        stamp_session_context(client, session_id, referrer=referrer, country=country, region=region)
