"""A page as the gateway renders it, opened in headless Chromium at a phone's
and a desktop's width, with only the page and its stylesheets served (no
network: anything else the page asks for is refused)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.browser.conftest import CHROMIUM

WIDTHS = (390, 1280)  # a phone, a desktop


@asynccontextmanager
async def in_chromium(client: httpx.AsyncClient, path: str) -> AsyncIterator[list[tuple[int, Any]]]:
    """The page at `path` as the gateway renders it, open at each of WIDTHS."""
    from playwright.async_api import async_playwright

    html = (await client.get(path)).text
    css = {
        href: (await client.get(href)).content
        for href in re.findall(r'href="(/static/[^"]+\.css[^"]*)"', html)
    }

    async def serve(route):
        asked = route.request.url.partition("://acme.localhost")[2]
        if asked in css:
            await route.fulfill(body=css[asked], content_type="text/css")
        elif asked == path:
            await route.fulfill(body=html, content_type="text/html")
        else:
            await route.abort()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            pages = []
            for width in WIDTHS:
                page = await browser.new_page(viewport={"width": width, "height": 900})
                await page.route("**/*", serve)
                await page.goto(f"http://acme.localhost{path}")
                pages.append((width, page))
            yield pages
        finally:
            await browser.close()
