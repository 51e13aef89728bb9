"""OpenTelemetry tracing, off by default.

``tracing.enabled: true`` builds a tracer provider exporting spans over OTLP/HTTP to
``tracing.otlp_endpoint`` in batches. The API wraps every request in a server span (see
``opsforge.api.middleware.TracingMiddleware``); code inside adds child spans with
``provider.get_tracer(__name__).start_as_current_span(...)``. A provider is built per app and
never installed globally, so tests and several apps in one process do not interfere.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from opsforge.core.config import TracingSettings

__all__ = ["build_tracer_provider", "extract_context"]


def build_tracer_provider(
    settings: TracingSettings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider per settings, or None when tracing is off.

    Parameters
    ----------
    settings
        ``enabled``, ``otlp_endpoint`` and ``service_name``.
    exporter
        Overrides the OTLP exporter (tests pass an in-memory exporter).
    """
    if not settings.enabled and exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint, timeout=5)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def extract_context(headers: dict[str, str]) -> Any:
    """The parent context from W3C ``traceparent``/``tracestate`` request headers."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract(carrier=headers)
