"""The client's push-back on a change order: comments on the whole order, on
lines they were shown, or both, and what it writes (the thread's comments, the
audit entry's facts). Pure: no I/O, the clock passed in.

One time: the request that pushed back, sent again, is answered with the
order as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.changeorders.domain_orders import SignedContent, Status, check_decision
from services.chassis.errors import InvalidArgument
from services.chassis.validation import multiline_text

COMMENT_MAX = 2_000
MAX_LINE_COMMENTS = 100
AUTHOR_NAME_MAX = 200


@dataclass(frozen=True)
class PushBack:
    comment: str  # on the whole order; may be empty when lines carry comments
    line_comments: tuple[tuple[str, str], ...]  # (line key, comment)


def check_push_back(
    *,
    status: int,
    number: str,
    revision: int,
    current_revision: int,
    deadline: datetime | None,
    now: datetime,
    comment: str,
    line_comments: Sequence[tuple[str, str]],
    line_keys: Collection[str],
) -> PushBack:
    """A comment on the whole order, on lines the client was shown, or both."""
    check_decision(
        action="push back",
        status=status,
        number=number,
        revision=revision,
        current_revision=current_revision,
        deadline=deadline,
        now=now,
    )
    whole = multiline_text(comment, field="comment", max_len=COMMENT_MAX)
    if len(line_comments) > MAX_LINE_COMMENTS:
        raise InvalidArgument(f"at most {MAX_LINE_COMMENTS} line comments", field="line_comments")
    lines: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, (key, text) in enumerate(line_comments):
        field = f"line_comments[{i}]"
        if key not in line_keys:
            raise InvalidArgument(
                f"{number} revision {revision} has no line {key!r}", field=f"{field}.line_key"
            )
        if key in seen:
            raise InvalidArgument(
                "one comment per line; put both thoughts in one", field=f"{field}.line_key"
            )
        seen.add(key)
        body = multiline_text(text, field=f"{field}.comment", max_len=COMMENT_MAX, required=True)
        lines.append((key, body))
    if not whole and not lines:
        raise InvalidArgument(
            "say what you would like changed: a comment on the order or on a line",
            field="comment",
        )
    return PushBack(whole, tuple(lines))


@dataclass(frozen=True)
class Waiting:
    """The revision the client pushes back on, as it is stored."""

    number: str
    revision: int
    current_revision: int
    status: int
    deadline: datetime | None
    decided_by_request: str  # the request that decided it, if any
    content_json: str  # what the client was shown (SignedContent, canonical)


@dataclass(frozen=True)
class Said:
    """One comment for the thread: on the order (no line key) or on a line,
    with the line's words as the client read them."""

    line_key: str
    line_description: str
    body: str


@dataclass(frozen=True)
class PushBackPlan:
    decision: PushBack
    author_name: str
    comments: tuple[Said, ...]
    project_reference: str  # from the content the client was shown

    @property
    def facts(self) -> dict[str, Any]:
        """The `pushed_back` audit entry."""
        return {
            "comment": self.decision.comment,
            "line_comments": [list(pair) for pair in self.decision.line_comments],
            "author_name": self.author_name,
        }

    @property
    def line_keys(self) -> list[str]:
        return [key for key, _ in self.decision.line_comments]


def plan_push_back(
    waiting: Waiting,
    *,
    request_id: str,
    comment: str,
    line_comments: Sequence[tuple[str, str]],
    author_name: str,
    now: datetime,
) -> PushBackPlan | None:
    """None: the request that pushed back, again (answer it as it is). Lines
    are named by the keys the client was shown, so hidden lines cannot be."""
    if waiting.status == Status.PUSHED_BACK and waiting.decided_by_request == request_id:
        return None
    content = SignedContent.from_json(waiting.content_json)
    lines = {line.key: line for room in content.diff.rooms for line in room.lines}
    decision = check_push_back(
        status=waiting.status,
        number=waiting.number,
        revision=waiting.revision,
        current_revision=waiting.current_revision,
        deadline=waiting.deadline,
        now=now,
        comment=comment,
        line_comments=line_comments,
        line_keys=lines.keys(),
    )
    said = [Said("", "", decision.comment)] if decision.comment else []
    said += [Said(key, lines[key].shown.description, body) for key, body in decision.line_comments]
    name = " ".join(author_name.split())[:AUTHOR_NAME_MAX]
    return PushBackPlan(decision, name, tuple(said), content.project_reference)
