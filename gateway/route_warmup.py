"""Build every route's request handling before the gateway listens.

FastAPI (0.165) prepares an included router's routes lazily: the first
request that is matched against a router analyses every route in it
(dependencies, parameter and response models), for the whole app about
130 routes and 0.5 s of CPU on a quiet core, several seconds on a busy one.
Done on the first request, that stalls every request behind it: the first
approvals of issue 12's benchmark waited for it. `python -m gateway` calls
`warm_routes` before it serves, so the work is done once, before the port
opens; the app's behaviour is unchanged (FastAPI keeps what it built until
the routes change). Since the route gates (route_gates.py) collect their
routes when the app is built, that already happens in `create_app`; this
stays as a backstop should the gates change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def warm_routes(routes: Iterable[Any]) -> int:
    """Prepare `routes` (and every router included under them); returns how
    many included routers were prepared. Relies only on what FastAPI does on
    a request: an included router's `effective_candidates()` and
    `effective_low_priority_routes()`; a route without them (a mount, a
    plain route, a router of our own) is walked through its `routes`."""
    warmed = 0
    seen: set[int] = set()
    stack = list(routes)
    while stack:
        route = stack.pop()
        if id(route) in seen:
            continue
        seen.add(id(route))
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            warmed += 1
            stack.extend(candidates())
            low = getattr(route, "effective_low_priority_routes", None)
            if callable(low):
                low()
            continue
        stack.extend(getattr(route, "routes", None) or ())
    return warmed
