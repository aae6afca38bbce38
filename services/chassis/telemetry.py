"""OpenTelemetry and JSON logs, set up the same way in every process.

Spans and metrics go to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; spans
also to a JSON-lines file when PORTAL_TRACE_FILE is set ({service} in it is
replaced by the process's service name; the trace test and local debugging
read it; it writes synchronously, so it is for tests and debugging only). Log lines are JSON and
carry the current trace and span ids.

Sampling (see `sampler_from_env`): head-based and parent-based, so a trace is
kept or dropped whole, decided where it starts (the gateway). Roots are kept
at PORTAL_TRACE_SAMPLE_RATIO (default 1%) when spans go to OTLP, all of them
when they go to the trace file, none when they go nowhere. The standard
OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, when set, win.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import context, metrics, propagate, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

DEFAULT_SAMPLE_RATIO = 0.01

_configured: set[str] = set()


def setup_telemetry(service_name: str, *, log_level: str = "INFO") -> TracerProvider:
    """Idempotent per process; returns the tracer provider in use."""
    _setup_logging(service_name, log_level)
    _setup_metrics(service_name)
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        return provider
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=sampler_from_env(os.environ),
    )
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace_file = os.environ.get("PORTAL_TRACE_FILE")
    if trace_file:
        # One file per process: concurrent appends of long lines would interleave.
        out = open(trace_file.format(service=service_name), "a", buffering=1)  # noqa: SIM115 - lives as long as the process
        exporter = ConsoleSpanExporter(
            out=out, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _setup_metrics(service_name: str) -> None:
    """Counters (e.g. notifications.email.failed) go to OTLP when it is
    configured; without it the API's instruments cost nothing and go nowhere."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    if isinstance(metrics.get_meter_provider(), MeterProvider):
        return
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

    metrics.set_meter_provider(
        MeterProvider(
            resource=Resource.create({"service.name": service_name}),
            metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())],
        )
    )


def sampler_from_env(env: Mapping[str, str]) -> Sampler | None:
    """The production policy: parent-based ratio sampling of roots.

    - OTEL_TRACES_SAMPLER set: None, so the SDK applies the standard variables.
    - PORTAL_TRACE_SAMPLE_RATIO (0..1) set: that ratio.
    - otherwise: every root when the trace file is asked for (tests read whole
      traces), DEFAULT_SAMPLE_RATIO when spans go to OTLP, and none when there is
      no exporter at all (spans would be built only to be dropped). Trace
      context is propagated either way, so logs still correlate.

    Errors: a head-based sampler decides before the outcome is known, so it
    cannot keep every failing trace. Every error is logged with its trace id;
    to keep error traces too, run the services at ratio 1 and let the
    collector's tail sampling keep errors, slow traces and a share of the rest
    (deploy/otel-collector.yaml).
    """
    if env.get("OTEL_TRACES_SAMPLER"):
        return None
    raw = env.get("PORTAL_TRACE_SAMPLE_RATIO", "").strip()
    if raw:
        ratio = float(raw)
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("PORTAL_TRACE_SAMPLE_RATIO must be between 0 and 1")
    elif env.get("PORTAL_TRACE_FILE"):
        ratio = 1.0
    elif env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        ratio = DEFAULT_SAMPLE_RATIO
    else:
        ratio = 0.0
    root: Sampler = (
        ALWAYS_ON if ratio >= 1.0 else ALWAYS_OFF if ratio <= 0.0 else TraceIdRatioBased(ratio)
    )
    return ParentBased(root)


def _add_trace_ids(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    return event


def _setup_logging(service_name: str, level: str) -> None:
    if service_name in _configured:
        return
    _configured.add(service_name)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_trace_ids,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service_name)
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def inject_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """W3C traceparent (and baggage) of the current span, for a NATS message."""
    carrier: dict[str, str] = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> context.Context:
    return propagate.extract(dict(headers or {}))
