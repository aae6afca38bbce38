"""The pages a signed-in client opens, measured like the API list: the status
board (`GET /projects/{id}`, cookie session, the real HTML page), a returning
client's landing (`/`, which renders the board of a client's only project in
that one request) and the documents page; and the cost-growth comparison of
list / board / documents page, empty vs grown.

A target may be a journey of several paths (redirects included); its CPU per
request is then per whole journey (its requests divided by the number of
steps). "landing / board" reads "what arriving costs over opening the board
directly"."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import httpx

from bench.events import BenchFailure

CLIENT_EMAIL = "jane.harrison@example.com"  # deploy/seed.py: the demo customer's approver


def sign_in(gateway_url: str, host: str, email: str, password: str) -> str:
    """A portal session for the demo client: the cookie header a browser sends."""
    with httpx.Client(
        base_url=gateway_url, headers={"Host": host}, trust_env=False, timeout=60
    ) as client:
        r = client.post("/api/v1/auth/sign-in", json={"email": email, "password": password})
        if r.status_code != 200 or "portal_session" not in client.cookies:
            raise BenchFailure(f"client sign-in answered {r.status_code}: {r.text[:300]}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def check_list(name: str, url: str, headers: dict[str, str]) -> None:
    """The API list, once before load: an error answer fails the bench early."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own loopback URL
    try:
        with opener.open(request, timeout=10) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise BenchFailure(f"{name}: GET {url} answered {exc.code}: {exc.read()[:500]!r}") from exc
    except OSError as exc:
        raise BenchFailure(f"{name}: GET {url} failed: {exc}") from exc
    if not isinstance(body.get("projects"), list) or not body["projects"]:
        raise BenchFailure(f"{name}: GET {url} answered no projects: {body}")


def check_journey(gateway_url: str, headers: dict[str, str], paths: tuple[str, ...]) -> None:
    """Each step answers as a browser would see it: a redirect to the next step,
    the last one an HTML page (200). Anything else fails the bench before load."""
    with httpx.Client(base_url=gateway_url, headers=headers, trust_env=False, timeout=60) as client:
        for i, path in enumerate(paths):
            r = client.get(path)
            last = i == len(paths) - 1
            if last and (r.status_code != 200 or "text/html" not in r.headers["content-type"]):
                raise BenchFailure(f"GET {path} answered {r.status_code}: {r.text[:300]}")
            if not last and r.headers.get("location", "").split("?")[0] != paths[i + 1]:
                raise BenchFailure(
                    f"GET {path} answered {r.status_code} to {r.headers.get('location')!r}, "
                    f"not to {paths[i + 1]}"
                )


def check_landing(gateway_url: str, headers: dict[str, str], board_path: str) -> None:
    """`/` shows the board itself (the same page title as the board's own URL),
    not the list or a redirect: otherwise "landing / board" measures something else."""
    with httpx.Client(base_url=gateway_url, headers=headers, trust_env=False, timeout=60) as client:
        titles = [_title(client.get(path).text) for path in ("/", board_path)]
    if not titles[0] or titles[0] != titles[1]:
        raise BenchFailure(f"GET / did not render the board: titles {titles}")


def _title(html: str) -> str:
    start, end = html.find("<title>"), html.find("</title>")
    return html[start + 7 : end].strip() if 0 <= start < end else ""


def page_targets(info: dict, cookie: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """key -> (label, paths) for the client's pages (cookie session)."""
    board = f"/projects/{info['demo_project_id']}"
    return {
        "board": ("client's status board page (cookie session)", (board,)),
        "landing": ("returning client's landing: / renders the board", ("/",)),
        "documents": ("client's documents page (cookie session)", (f"{board}/documents",)),
    }


def growth_ratios(empty: dict[str, dict], grown: dict[str, dict]) -> dict[str, float]:
    return {
        key: grown[key]["server_cpu_us_per_req"] / empty[key]["server_cpu_us_per_req"]
        for key in grown
    }
