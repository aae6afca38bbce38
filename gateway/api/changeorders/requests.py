"""What staff and clients send about change orders: drafts and their
changes, revisions, withdrawals, approvals and push-backs. Each field is
bounded where the service bounds it, so a bad value is a 422 naming it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gateway.api.fields import Int32, Int64, Line, Text

Stage = Literal["design", "procurement", "install", "commissioning", "handover"]


# -- what staff send --------------------------------------------------------------------


class LineChangeIn(BaseModel):
    kind: Literal["added", "removed", "quantity", "swapped", "repriced", "labour"]
    line_key: Line = Field("", max_length=40, description="R1.2: the contract line it changes.")
    room_key: Line = Field("", max_length=40, description="added: a room of the contract ...")
    new_room_name: Line = Field("", max_length=120, description="... or a new room.")
    description: Line = Field("", max_length=300)
    quantity: Int32 | None = None
    unit_price_minor: Int64 | None = None
    client_visible: bool = True
    labour: bool = False
    labour_minor: Int64 | None = None
    note: Text = Field("", max_length=1000, description="Why, shown with the line.")


class ChangeOrderIn(BaseModel):
    title: Line = Field(min_length=1, max_length=200)
    reason: Text = Field(min_length=1, max_length=4000, description="Why the change is needed.")
    changes: list[LineChangeIn] = Field(min_length=1, max_length=200)
    schedule_impact_days: Int32 = 0
    shift_from_stage: Stage | Literal[""] = ""
    approval_deadline: datetime | None = None


class ChangeOrderChange(BaseModel):
    """A draft's fields to change (AIP-134: only those sent change)."""

    title: Line | None = Field(None, min_length=1, max_length=200)
    reason: Text | None = Field(None, min_length=1, max_length=4000)
    changes: list[LineChangeIn] | None = Field(None, min_length=1, max_length=200)
    schedule_impact_days: Int32 | None = None
    shift_from_stage: Stage | Literal[""] | None = None
    approval_deadline: datetime | None = None


class Revision(BaseModel):
    """A new revision: a field left out keeps the previous revision's."""

    title: Line = Field("", max_length=200)
    reason: Text = Field("", max_length=4000)
    changes: list[LineChangeIn] = Field(default_factory=list, max_length=200)
    schedule_impact_days: Int32 | None = None
    shift_from_stage: Stage | Literal[""] = ""
    approval_deadline: datetime | None = None
    comment: Text = Field("", max_length=4000, description="Staff's answer in the thread.")


class Withdrawal(BaseModel):
    reason: Text = Field("", max_length=1000)


# -- what a client sends ----------------------------------------------------------------


class Approval(BaseModel):
    revision: Int32 = Field(ge=1, description="The revision the client was shown.")
    signer_name: Line = Field(min_length=2, max_length=200, description="Typed full name.")
    consent: bool = Field(description="The consent box was ticked.")
    content_sha256: Line = Field(pattern="^[0-9a-f]{64}$", description="What the client saw.")
    consented_at: datetime | None = None


class LineCommentIn(BaseModel):
    line_key: Line = Field(min_length=1, max_length=40)
    comment: Text = Field(min_length=1, max_length=4000)


class PushBack(BaseModel):
    revision: Int32 = Field(ge=1)
    comment: Text = Field("", max_length=4000, description="On the whole order.")
    line_comments: list[LineCommentIn] = Field(default_factory=list, max_length=200)
