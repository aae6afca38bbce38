"""Forms on pages: reading a submitted form (stripped, bounded, checked as the
JSON API's fields are, CSRF checked) and turning a service's refusal into
what is shown next to the form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData

from gateway import csrf
from gateway.api.fields import line_problem, secret_problem, text_problem
from gateway.backends import RemoteError
from gateway.problems import FieldError, Problem, ProblemError, http_for, problem_type
from gateway.sessions import SignedIn
from gateway.settings import GatewaySettings
from services.chassis.grpc_client import error_detail
from services.chassis.validation import INT32_MAX, normalise_newlines

_MAX_FIELD = 4000


class Form:
    """A submitted form's text fields, stripped and bounded. No field may hold
    a NUL (or an unpaired surrogate); `get` and `getlist` read one line (no
    control character), `text` several (a textarea), `secret` as typed. A
    field that breaks its rule is a 422 naming it: only a hand-made request
    can send one, since browsers cannot type these."""

    def __init__(self, data: FormData) -> None:
        for name, value in data.multi_items():
            if isinstance(value, str) and (problem := secret_problem(name + value)):
                raise unusable_field(name, problem)
        self._data = data

    def __getitem__(self, name: str) -> str:
        return self.get(name)

    def _raw(self, name: str) -> str:
        value = self._data.get(name)
        return value[:_MAX_FIELD] if isinstance(value, str) else ""

    def get(self, name: str) -> str:
        """One line of text, stripped."""
        value = self._raw(name).strip()
        if problem := line_problem(value):
            raise unusable_field(name, problem)
        return value

    def text(self, name: str) -> str:
        """A textarea: newlines (CR LF as "\\n") and tabs kept, stripped."""
        value = normalise_newlines(self._raw(name)).strip()
        if problem := text_problem(value):
            raise unusable_field(name, problem)
        return value

    def secret(self, name: str) -> str:
        """Passwords and codes: kept as typed."""
        return self._raw(name)

    def has(self, name: str) -> bool:
        return name in self._data

    def getlist(self, name: str) -> list[str]:
        """Every value of a repeated field (ticked checkboxes), stripped and bounded."""
        values = [v[:_MAX_FIELD].strip() for v in self._data.getlist(name) if isinstance(v, str)]
        for value in values:
            if problem := line_problem(value):
                raise unusable_field(name, problem)
        return values

    def whole_number(self, name: str, *, default: int, what: str) -> int:
        """The field as an integer (empty: `default`) that a protobuf int32 can
        carry; ValueError with a sentence for the person if it is not one.
        The limits that are rules are the service's to say."""
        try:
            value = int(self.get(name) or default)
        except ValueError:
            raise ValueError(f"The {what} is a whole number, like 2.") from None
        if abs(value) > INT32_MAX:
            raise ValueError(f"The {what} is far too large.")
        return value


def unusable_field(name: str, problem: str) -> ProblemError:
    label = name.replace("_", " ")
    return ProblemError(
        Problem(
            type=problem_type("invalid-request"),
            title="Invalid request",
            status=422,
            detail=f"The {label} field {problem}. Remove it and send the form again.",
            code="invalid_request",
            errors=[FieldError(field=name, location="body", message=_sentence(problem))],
        )
    )


async def read_form(request: Request) -> Form:
    return Form(await request.form(max_files=0, max_fields=50))


async def signed_in_form(request: Request, signed_in: SignedIn) -> Form:
    """The form of a signed-in page, its CSRF token checked."""
    form = await read_form(request)
    settings: GatewaySettings = request.app.state.settings
    csrf.check_session_token(settings.csrf_secret, signed_in.token, form.get(csrf.FORM_FIELD))
    return form


async def anonymous_form(request: Request) -> Form:
    """The form of a page shown before sign-in: double-submit cookie checked."""
    form = await read_form(request)
    settings: GatewaySettings = request.app.state.settings
    csrf.check_double_submit(request.cookies.get(settings.csrf_cookie), form.get(csrf.FORM_FIELD))
    return form


@dataclass(frozen=True)
class Refusal:
    """A service's refusal, for showing next to a form: its sentence, and per field."""

    status: int
    message: str
    fields: dict[str, str]
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def refusal(exc: RemoteError) -> Refusal:
    """The person's mistake (a 4xx, as gateway/problems.py maps it) as a
    Refusal; anything else is re-raised for the error page."""
    mapped = http_for(exc.error)
    if mapped is None or mapped[0] >= 500:
        raise exc
    status = mapped[0]
    info = error_detail(exc.error)
    fields = {v.field: v.description for v in info.field_violations if v.field}
    retry = max(1, info.retry_after_seconds) if status == 429 else None
    return Refusal(status, _sentence(info.message or "That did not work."), fields, retry)


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def looks_like_email(value: str) -> bool:
    """Only to catch typos before a round trip; identity decides."""
    return len(value) <= 320 and bool(_EMAIL.match(value))
