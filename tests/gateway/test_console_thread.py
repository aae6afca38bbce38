"""The console's change-order thread names who wrote each comment: the client
by the name they gave, a staff answer by the name identity has for its author
(changeorders keeps the author's id), never the bare word "staff"."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc

from gateway.settings import GatewaySettings
from tests.gateway import project_fakes as F
from tests.gateway.changeorders_portal import signed_in

ORDER_ID = "5b0f3c1e-2d4a-4e6b-9c8d-7a6f5e4d3c2b"
PROJECT_ID = "0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a21"
LEFT_THE_TEAM = "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"


def _at(seconds: int) -> Timestamp:
    return Timestamp(seconds=1_780_000_000 + seconds)


def _comment(n: int, kind: str, body: str, *, name: str = "", author: str = "") -> pb.Comment:
    return pb.Comment(
        id=f"00000000-0000-4000-8000-00000000000{n}",
        revision=1 if n < 2 else 2,
        author_kind=kind,
        author_name=name,
        author_id=author,
        body=body,
        created_at=_at(n * 60),
    )


class FakeChangeOrders(changeorders_pb2_grpc.ChangeOrdersServiceServicer):
    def __init__(self) -> None:
        self.comments = [
            _comment(1, "client", "Can the sub go under the stairs?", name="Jane Harrison"),
            _comment(2, "staff", "Yes: a shorter cable run, same price.", author=F.STAFF_ID),
            _comment(3, "staff", "Confirmed with the electrician.", author=LEFT_THE_TEAM),
        ]

    async def GetChangeOrder(self, request, context):
        return pb.GetChangeOrderResponse(
            change_order=pb.ChangeOrder(
                id=ORDER_ID,
                project_id=PROJECT_ID,
                project_name="Harrison cinema",
                number="CO-001",
                revision=2,
                latest_revision=2,
                status=pb.CHANGE_ORDER_STATUS_DRAFT,
                title="Second subwoofer",
                comments=self.comments,
            )
        )

    async def GetAuditTrail(self, request, context):
        return pb.GetAuditTrailResponse(intact=True)


@pytest.fixture
async def console(keypair, settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(FakeChangeOrders(), keypair, settings, F.staff_session()) as client:
        yield client


def _authors(page: str) -> list[str]:
    """The names in the thread's comment headings, in order."""
    thread = page.split('<ol class="thread">', 1)[1].split("</ol>", 1)[0]
    return [
        html.unescape(part.split("</strong>", 1)[0])
        for part in thread.split('<p class="comment-meta"><strong>')[1:]
    ]


async def test_a_staff_answer_reads_as_its_authors_name_from_identity(console):
    page = await console.get(f"/console/change-orders/{ORDER_ID}")
    assert page.status_code == 200, page.text
    # The client by their own name; Sam (identity's name for STAFF_ID); someone
    # identity no longer lists as a team member, not as a guess.
    assert _authors(page.text) == ["Jane Harrison", "Sam Lee", "A team member"]
    assert "<strong>staff</strong>" not in page.text
    # Sam is marked as the team's; "A team member" says so already.
    assert page.text.count('<span class="tag">Team</span>') == 1
