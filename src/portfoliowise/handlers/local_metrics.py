"""`GET /metrics` of `portfoliowise serve` (local only: the Lambda functions never serve it;
in AWS the same figures are the EMF metrics and API Gateway's). The local server counts
every request it answers per route and status and keeps its latency, from the request's
first byte to its response sent, and answers:

    {"since": "<ISO time>", "requests": <n>,
     "routes": {"GET /portfolios/<portfolio_id>": {"count": n, "statuses": {"200": n},
                "latencyMs": {"p50": x, "p90": x, "p99": x, "max": x}}}}

A route is the resolver's rule (`GET /portfolios/<portfolio_id>`, never the raw path, so
ids do not become labels); a path no route matches is `<METHOD> (unmatched)`, the web app's
files `static`, a request refused before it was read `(refused)`. Latencies are kept for
the last LATENCY_WINDOW requests of each route (nearest-rank percentiles)."""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

METRICS_PATH: Final = "/metrics"
LATENCY_WINDOW: Final = 1_000
PERCENTILES: Final = (50, 90, 99)
STATIC: Final = "static"
REFUSED: Final = "(refused)"

RouteOf = Callable[[str, str], str]


def percentile(sorted_values: list[float], p: int) -> float:
    """Nearest-rank percentile of non-empty, sorted values."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class _Route:
    def __init__(self) -> None:
        self.count = 0
        self.statuses: Counter[int] = Counter()
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)


class RequestMetrics:
    """Counters and latencies per route, safe to record from many threads."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._since = now()
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()

    def record(self, route: str, status: int, millis: float) -> None:
        with self._lock:
            found = self._routes.setdefault(route, _Route())
            found.count += 1
            found.statuses[status] += 1
            found.latencies.append(millis)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            routes: dict[str, Any] = {}
            for name in sorted(self._routes):
                route = self._routes[name]
                values = sorted(route.latencies)
                latency = {f"p{p}": round(percentile(values, p), 3) for p in PERCENTILES}
                latency["max"] = round(values[-1], 3)
                routes[name] = {
                    "count": route.count,
                    "statuses": {str(s): n for s, n in sorted(route.statuses.items())},
                    "latencyMs": latency,
                }
            total = sum(r.count for r in self._routes.values())
        return {"since": self._since.isoformat(), "requests": total, "routes": routes}

    def body(self) -> bytes:
        return json.dumps(self.snapshot(), ensure_ascii=False).encode("utf-8")


def route_matcher(routes: Iterable[Any]) -> RouteOf:
    """`(method, path) -> label` over a resolver's routes (Powertools `Route`: `method`,
    `path` with `<param>`s, `rule` the compiled pattern of the path)."""
    table = [
        (str(r.method).upper(), str(r.path), r.rule)
        for r in routes
        if isinstance(getattr(r, "rule", None), re.Pattern)
    ]

    def route_of(method: str, path: str) -> str:
        upper = method.upper()
        for verb, template, rule in table:
            if verb == upper and rule.match(path):
                return f"{verb} {template}"
        if upper == "OPTIONS" or upper == "HEAD":
            for _, template, rule in table:
                if rule.match(path):
                    return f"{upper} {template}"
        return f"{upper} (unmatched)"

    return route_of


def resolver_routes(app: Any) -> RouteOf:
    """The route labels of a Powertools resolver (its static and dynamic routes)."""
    return route_matcher(
        [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]
    )
