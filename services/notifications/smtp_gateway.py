"""Sending email through SMTP (aiosmtplib) over kept connections, and saying
how a send failed.

Headers are built by the email package (`Address` for names, the SMTP policy
folding and RFC 2047-encoding the subject) from text with no control
character in it, so no field can add a header line. The envelope names the
one recipient explicitly: nothing in the headers decides who receives."""

from __future__ import annotations

import asyncio
import functools
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import Any, Literal

import aiosmtplib
from aiosmtplib import SMTPResponse
from aiosmtplib.typing import Default

from services.notifications import domain_delivery as delivery
from services.notifications.domain_delivery import Failure, SendFailed
from services.notifications.models import Email, EmailAttachment
from services.notifications.settings import NotificationsSettings


def build_message(email: Email, *, mail_from: str) -> EmailMessage:
    """The message, or SendFailed (permanent) when it cannot be composed."""
    if problem := delivery.address_problem(email.to_address):
        raise SendFailed(Failure.permanent(f"invalid recipient address: {problem}"))
    try:
        msg = EmailMessage(policy=_POLICY)
        # Cleaned again here: rows queued before composition cleaned them.
        msg["From"] = _address_header(
            "From", delivery.header_text(email.from_name, delivery.NAME_MAX), mail_from
        )
        msg["To"] = _address_header(
            "To", delivery.header_text(email.to_name, delivery.NAME_MAX), email.to_address
        )
        msg["Subject"] = delivery.header_text(email.subject, delivery.SUBJECT_MAX)
        msg["Date"] = formatdate(localtime=False)
        # Stable id: a resend after a crash is recognisably the same message.
        msg["Message-ID"] = f"<{email.id}@portal>"
        msg["X-Portal-Event"] = delivery.header_text(email.event_type, delivery.NAME_MAX)
        msg.set_content(delivery.body_text(email.text_body))
        msg.add_alternative(delivery.body_text(email.html_body), subtype="html")
        for attachment in email.attachments:
            _attach(msg, attachment)
    except (ValueError, TypeError, LookupError) as exc:
        raise SendFailed(Failure.permanent(f"cannot compose the message: {exc}")) from exc
    return msg


class _HeadersParsedOnce(HeaderRegistry):
    """The email package parses every header it is given (and the MIME parts'
    own, two or three times each while composing), which was most of composing
    a message. A parsed header is immutable and folds the same each time, so
    the ones that repeat (the brand's From, a recipient's To, a project's
    subject, the event type, this second's Date, the parts' Content-Type and
    transfer encoding) are parsed once and shared; a header the policy is
    given as an object of its name is taken as it is."""

    def __init__(self) -> None:
        super().__init__()
        self._parsed = functools.lru_cache(maxsize=2048)(super().__call__)

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str):
            return self._parsed(name, value)
        return super().__call__(name, value)


_POLICY = SMTP.clone(header_factory=_HeadersParsedOnce())


@functools.lru_cache(maxsize=2048)
def _address_header(name: str, display_name: str, addr_spec: str) -> BaseHeader:
    return _POLICY.header_factory(name, Address(display_name=display_name, addr_spec=addr_spec))


def _attach(msg: EmailMessage, attachment: EmailAttachment) -> None:
    """A file as its own part (the message becomes multipart/mixed). A calendar
    invitation keeps its `method` parameter: mail clients read it to offer
    "update" or "remove" for the event they already hold."""
    kind, _, rest = attachment.content_type.partition(";")
    maintype, _, subtype = kind.strip().partition("/")
    params = dict(
        (k.strip(), v.strip()) for k, _, v in (p.partition("=") for p in rest.split(";") if p)
    )
    msg.add_attachment(
        attachment.content,
        maintype=maintype or "application",
        subtype=subtype or "octet-stream",
        filename=attachment.filename,
        params=params,
    )


def failure_of(exc: Exception) -> Failure:
    """What a failed SMTP exchange means for this message."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        # One recipient per message: its refusal is about this message.
        refusals = exc.recipients or []
        if refusals and all(500 <= r.code < 600 for r in refusals):
            first = refusals[0]
            return delivery.smtp_reply_failure(first.code, first.message, about_this_message=True)
        return Failure.transient(f"recipient refused for now: {exc}")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return delivery.smtp_reply_failure(exc.code, exc.message, about_this_message=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # Greeting, login, sender: our side's configuration, true of every message.
        return delivery.smtp_reply_failure(exc.code, exc.message, about_this_message=False)
    # Connection refused or dropped, timeouts, TLS: the road, not the message.
    return Failure.transient(f"{type(exc).__name__}: {exc}")


class _Session(aiosmtplib.SMTP):
    """One SMTP connection, kept open for message after message. It notes when
    a message's DATA began: before that the server cannot have taken it, so a
    connection found dropped then is safe to replace and try once more. It
    also notes a failed RSET: aiosmtplib resets the envelope after a refusal
    and swallows a failed reset, which leaves the server's envelope unknown
    (the next message's MAIL would meet "503 nested MAIL")."""

    data_begun = False
    reset_failed = False
    expiry: asyncio.TimerHandle | None = None

    async def rset(
        self, *, timeout: float | Literal[Default.token] | None = Default.token
    ) -> SMTPResponse:
        try:
            return await super().rset(timeout=timeout)
        except BaseException:
            self.reset_failed = True
            raise

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: float | Literal[Default.token] | None = Default.token,
    ) -> SMTPResponse:
        self.data_begun = True
        return await super().data(message, timeout=timeout)


def _dropped(exc: Exception) -> bool:
    """The server went away (closed, reset, or said 421 "closing"), not a reply
    about the message."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code == 421
    return isinstance(exc, ConnectionError | aiosmtplib.SMTPServerDisconnected)


class SmtpGateway:
    """Sends through a few long-lived SMTP connections instead of one per email
    (connect, EHLO, QUIT and, with STARTTLS, a TLS handshake each time were
    most of the mailer's and the server's work per message).

    A connection serves one message at a time; idle ones are kept (at most
    `keep`, newest first, so a quiet spell lets the rest expire) and closed
    with QUIT after `idle_seconds` unused. Exactly once stays the outbox's
    and the mailer's: a reused connection found dropped before DATA began is
    replaced and the message tried once more on a new one (the server had
    not taken it); any failure from DATA on is the message's failure, retried
    by the mailer's rules, never resent here."""

    def __init__(
        self, settings: NotificationsSettings, *, keep: int = 8, idle_seconds: float = 30.0
    ) -> None:
        self._settings = settings
        self._keep = max(0, keep)
        self._idle_seconds = idle_seconds
        self._idle: list[_Session] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.connections_opened = 0

    async def send(self, email: Email) -> None:
        """Send it, or raise SendFailed saying whether another try may help."""
        message = build_message(email, mail_from=self._settings.mail_from)
        session = self._take_idle()
        failure = await self._attempt(session, message, email.to_address) if session else None
        if session is None or (failure and not session.data_begun and _dropped(failure)):
            # None kept, or a kept one the server had closed meanwhile (before
            # DATA: it has not taken this message): a new connection.
            session = await self._open()
            failure = await self._attempt(session, message, email.to_address)
        if failure is not None:
            raise SendFailed(failure_of(failure)) from failure

    async def _attempt(self, session: _Session, message: EmailMessage, to: str) -> Exception | None:
        session.data_begun = session.reset_failed = False
        try:
            await session.send_message(message, sender=self._settings.mail_from, recipients=[to])
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._keep_or_close(session, exc)
            return exc
        except BaseException:
            session.close()
            raise
        self._keep_or_close(session, None)
        return None

    async def _open(self) -> _Session:
        s = self._settings
        session = _Session(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            start_tls=s.smtp_starttls,
            timeout=15,
        )
        try:
            await session.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            session.close()
            raise SendFailed(failure_of(exc)) from exc
        self.connections_opened += 1
        return session

    def _take_idle(self) -> _Session | None:
        while self._idle:
            session = self._idle.pop()
            if session.expiry is not None:
                session.expiry.cancel()
            if session.is_connected:
                return session
            session.close()
        return None

    def _keep_or_close(self, session: _Session, failure: Exception | None) -> None:
        """Back to the idle ones after a success or a plain refusal whose
        envelope aiosmtplib reset; closed after anything else (a failed reset,
        or a timeout, which leaves a reply on its way that the next message
        would read as its own)."""
        refused = (
            isinstance(failure, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused)
            and not _dropped(failure)
            and not session.reset_failed
        )
        usable = session.is_connected and (failure is None or refused)
        if not usable or len(self._idle) >= self._keep:
            self._quit(session)
            return
        loop = asyncio.get_running_loop()
        session.expiry = loop.call_later(self._idle_seconds, self._expire, session)
        self._idle.append(session)

    def _expire(self, session: _Session) -> None:
        if session in self._idle:
            self._idle.remove(session)
            self._quit(session)

    def _quit(self, session: _Session) -> None:
        if not session.is_connected:
            session.close()
            return
        task = asyncio.create_task(_quit(session))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """QUIT every idle connection (at shutdown, and in tests)."""
        while (session := self._take_idle()) is not None:
            await _quit(session)
        if self._closing:
            await asyncio.gather(*self._closing)


async def _quit(session: _Session) -> None:
    try:
        await session.quit()
    except (aiosmtplib.SMTPException, OSError):
        session.close()  # it is going anyway
