"""The client's change-order page in headless Chromium on a phone (390 px)
and a desktop (1280 px): the breadcrumb back to the project and to its change
orders reads as two links, with no separator left dangling on a line of its
own or at a line's end when the links wrap. Screenshots:
tests/screenshots/change-order-breadcrumb-{390,1280}.png."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc
from portal.common.v1 import common_pb2

from gateway.settings import GatewaySettings
from tests.browser.conftest import needs_chromium
from tests.gateway import project_fakes as F
from tests.gateway.changeorders_portal import signed_in
from tests.gateway.chromium_pages import in_chromium

ORDER_ID = "6c1a4d2f-3e5b-4f7c-8d9e-0a1b2c3d4e5f"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
PAGE = f"/projects/{F.PROJECT_ID}/change-orders/{ORDER_ID}"


def usd(minor: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=minor, currency="USD")


class FakeChangeOrders(changeorders_pb2_grpc.ChangeOrdersServiceServicer):
    async def GetChangeOrder(self, request, context):
        return pb.GetChangeOrderResponse(
            change_order=pb.ChangeOrder(
                id=ORDER_ID,
                project_id=F.PROJECT_ID,
                project_name="Harrison home cinema and whole-house audio",
                number="CO-002",
                revision=1,
                latest_revision=1,
                status=pb.CHANGE_ORDER_STATUS_SENT,
                title="Second subwoofer",
                reason="The room measured bigger than surveyed.",
                sent_at=Timestamp(seconds=1_780_000_000),
                diff=pb.Diff(price_impact=usd(129_900)),
            )
        )


@pytest.fixture
async def portal(keypair, settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(FakeChangeOrders(), keypair, settings, F.client_session()) as client:
        yield client


def _crumb(page: str) -> str:
    return page.split('class="breadcrumb"', 1)[1].split("</nav>", 1)[0]


async def test_the_breadcrumb_is_two_links_back_and_nothing_between_them(portal):
    page = await portal.get(PAGE)
    assert page.status_code == 200, page.text
    crumb = _crumb(page.text)
    assert re.findall(r'href="([^"]+)"', crumb) == [
        f"/projects/{F.PROJECT_ID}",
        f"/projects/{F.PROJECT_ID}/change-orders",
    ]
    between = re.sub(r"<a [^>]*>[^<]*</a>", "", crumb.split(">", 1)[1])
    assert between.strip() == ""  # no "·" (or any text) outside the links to dangle


@needs_chromium
async def test_the_breadcrumb_on_a_phone_and_a_desktop(portal):
    async with in_chromium(portal, PAGE) as pages:
        for width, page in pages:
            links = page.locator(".breadcrumb a")
            boxes = [await links.nth(i).bounding_box() for i in range(await links.count())]
            assert len(boxes) == 2 and all(boxes)
            first, second = boxes
            assert first and second  # for the type checker
            # Inside the page, each a whole tap target (44 px), and not on top of each other.
            assert all(b["x"] >= 0 and b["x"] + b["width"] <= width for b in (first, second))
            assert min(first["height"], second["height"]) >= 44
            beside = second["x"] >= first["x"] + first["width"]
            assert beside or second["y"] >= first["y"] + first["height"]
            # Nothing drawn in the breadcrumb but the two links (and their arrows).
            stray = await page.locator(".breadcrumb").evaluate(
                "el => [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim())"
                ".map(n => n.textContent)"
            )
            assert stray == []
            SCREENSHOTS.mkdir(exist_ok=True)
            await page.screenshot(
                path=str(SCREENSHOTS / f"change-order-breadcrumb-{width}.png"),
                clip={"x": 0, "y": 0, "width": width, "height": 420},
            )
