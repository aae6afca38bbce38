"""Spans and trace context for gRPC calls, without OpenTelemetry's gRPC
instrumentation.

The instrumentation's interceptors cost every call, sampled or not: on the
client, an intercepted call (a task of its own, a wrapped call object) and a
span; on the server, a handler and a servicer context wrapped per call and a
span. In the bench that was ~10% of the gateway's samples on the list and ~5%
of projects'. Here the chassis's `Caller` and its server guard do the same in
one step each:

- a call made inside a trace that is not sampled (a non-recording current
  span, the common case at a 1% ratio) carries that trace's context as it is
  and starts no span: with parent-based sampling (the chassis's policy, see
  telemetry.py) its child could only be a non-recording span too;
- a handler called inside a trace that is not sampled runs in the caller's
  context (so its logs and its own calls and events carry the same trace id)
  and starts no span, for the same reason;
- everything else (a sampled trace, or none yet) gets the SERVER or CLIENT
  span the instrumentation made: named after the full method
  (`/portal.projects.v1.ProjectsService/ListProjects`), with `rpc.system`,
  `rpc.service`, `rpc.method` and `rpc.grpc.status_code`, ERROR on failure.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_TRACER = trace.get_tracer("portal.grpc")
# What W3C trace context and baggage travel in; nothing else is decoded.
_PROPAGATED = frozenset({"traceparent", "tracestate", "baggage"})

Metadata = tuple[tuple[str, str], ...]
# A version-00 traceparent, exactly as OpenTelemetry writes one.
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_DEFAULT_PROPAGATORS = [TraceContextTextMapPropagator, W3CBaggagePropagator]
_checked_textmap: list[Any] = [None, False]  # the global textmap last seen, and whether default


def method_name(method: Any) -> str:
    """`/package.Service/Method` of a grpc.aio multi-callable (its bound name);
    a test double's own name otherwise."""
    raw = getattr(method, "_method", None)
    if isinstance(raw, bytes):
        return raw.decode()
    if isinstance(raw, str):
        return raw
    return getattr(method, "__qualname__", type(method).__name__)


def _attributes(method: str) -> dict[str, Any]:
    service, _, name = method.lstrip("/").partition("/")
    return {
        "rpc.system": "grpc",
        "rpc.service": service,
        "rpc.method": name,
        "rpc.grpc.status_code": grpc.StatusCode.OK.value[0],
    }


def _context_metadata(ctx: context.Context | None = None) -> Metadata:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=ctx)
    return tuple(carrier.items())


def _unsampled_metadata(span_context: SpanContext) -> Metadata:
    """`_context_metadata()` inside an unsampled trace: with the default W3C
    propagators, no tracestate and no baggage, that is one traceparent,
    written here as OpenTelemetry writes it, without the propagators' walk."""
    if span_context.trace_state or baggage.get_all() or not _default_propagators():
        return _context_metadata()
    ids = f"{span_context.trace_id:032x}-{span_context.span_id:016x}"
    return (("traceparent", f"00-{ids}-{span_context.trace_flags:02x}"),)


@contextlib.contextmanager
def client_span(method: str) -> Iterator[Metadata]:
    """Around one outgoing call; yields the trace-context metadata to send.
    The span is not made current: a server stream's reader runs between its
    messages, and nothing inside a call starts spans of its own."""
    current = trace.get_current_span()
    if current.get_span_context().is_valid and not current.is_recording():
        yield _unsampled_metadata(current.get_span_context())
        return
    span = _TRACER.start_span(method, kind=SpanKind.CLIENT, attributes=_attributes(method))
    try:
        yield _context_metadata(trace.set_span_in_context(span))
    except grpc.aio.AioRpcError as exc:
        span.set_attribute("rpc.grpc.status_code", exc.code().value[0])
        span.set_status(Status(StatusCode.ERROR, exc.details()))
        raise
    except GeneratorExit:  # a stream's reader left early: not a failure
        raise
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        span.end()


@contextlib.contextmanager
def server_span(method: str, metadata: Iterable[tuple[str, Any]] | None) -> Iterator[Span | None]:
    """Around one handled call; yields the span, or None in an unsampled trace."""
    carrier = {k: v for k, v in metadata or () if k in _PROPAGATED and isinstance(v, str)}
    parent = _extract(carrier)
    remote = trace.get_current_span(parent).get_span_context()
    if remote.is_valid and not remote.trace_flags.sampled:
        token = context.attach(parent)
        try:
            yield None
        finally:
            # A stream's generator closed from another context cannot detach;
            # its task's context ends with it anyway.
            with contextlib.suppress(ValueError):
                context.detach(token)
        return
    with _TRACER.start_as_current_span(
        method, context=parent, kind=SpanKind.SERVER, attributes=_attributes(method)
    ) as span:
        yield span


def _extract(carrier: dict[str, str]) -> context.Context:
    """`propagate.extract(carrier)` for the usual carrier (one well-formed
    traceparent, no tracestate or baggage, the default W3C propagators) in
    one match (the propagators' walk and their looser pattern were ~2.5% of
    projects' samples on the list); any other carrier goes to OpenTelemetry."""
    value = carrier.get("traceparent") if len(carrier) == 1 else None
    match = _TRACEPARENT.fullmatch(value) if value is not None else None
    if match is None or not _default_propagators():
        return propagate.extract(carrier)
    trace_id, span_id = int(match[1], 16), int(match[2], 16)
    if not trace_id or not span_id:  # invalid ids: OpenTelemetry ignores the header
        return propagate.extract(carrier)
    flags = TraceFlags(int(match[3], 16))
    remote = SpanContext(trace_id, span_id, is_remote=True, trace_flags=flags)
    return trace.set_span_in_context(NonRecordingSpan(remote), context.Context())


def _default_propagators() -> bool:
    textmap = propagate.get_global_textmap()
    if textmap is not _checked_textmap[0]:
        kinds = [type(p) for p in getattr(textmap, "_propagators", ())]
        default = isinstance(textmap, CompositePropagator) and kinds == _DEFAULT_PROPAGATORS
        _checked_textmap[:] = [textmap, default]
    return bool(_checked_textmap[1])


def record_status(span: Span | None, code: grpc.StatusCode, message: str) -> None:
    """A refused or failed call's status on its server span (if it has one)."""
    if span is not None and span.is_recording():
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        span.set_status(Status(StatusCode.ERROR, message))
