"""OTLP/HTTP through the OpenTelemetry Python SDK and its OTLP HTTP exporters (protobuf)."""
import json
import logging

import pytest

from conftest import make_client

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.exporter.otlp.proto.http import Compression  # noqa: E402
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler  # noqa: E402
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult  # noqa: E402


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip], ids=["plain", "gzip"])
def test_python_sdk_logs_land_in_the_log_group(endpoint, compression):
    logs = make_client(endpoint, "logs")
    logs.create_log_group(logGroupName="otel-py")
    exporter = OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", compression=compression,
                               headers={"x-aws-log-group": "otel-py", "x-aws-log-stream": "worker"})
    provider = LoggerProvider(resource=Resource.create({"service.name": "billing"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger(f"billing.{compression.name}")
    logger.propagate = False
    logger.addHandler(LoggingHandler(logger_provider=provider))
    logger.setLevel(logging.INFO)
    logger.warning("invoice %s is late", "INV-7", extra={"invoice.days": 3})
    provider.force_flush()
    provider.shutdown()

    events = logs.filter_log_events(logGroupName="otel-py", logStreamNames=["worker"])["events"]
    assert len(events) == 1
    stored = json.loads(events[0]["message"])
    assert stored["body"] == "invoice INV-7 is late"
    assert stored["severityText"] == "WARN"
    assert stored["severityNumber"] == 13
    assert stored["attributes"]["invoice.days"] == 3
    assert stored["resource"]["attributes"]["service.name"] == "billing"
    assert stored["scope"]["name"] == f"billing.{compression.name}"
    assert events[0]["timestamp"] == stored["timeUnixNano"] // 1_000_000
    # Filter patterns reach the stored document's fields.
    hits = logs.filter_log_events(logGroupName="otel-py", filterPattern='{ $.severityText = "WARN" }')["events"]
    assert [e["eventId"] for e in hits] == [events[0]["eventId"]]


def test_python_sdk_traces_are_refused_cleanly(endpoint):
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    provider = TracerProvider()
    results = []

    class Recording(SimpleSpanProcessor):
        def on_end(self, span):
            results.append(exporter.export([span]))

    provider.add_span_processor(Recording(exporter))
    with provider.get_tracer("t").start_as_current_span("work"):
        pass
    assert results == [SpanExportResult.FAILURE]
    provider.shutdown()


def test_python_sdk_metrics_become_cloudwatch_metrics(endpoint):
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics"),
                                           export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource.create({"service.name": "cart", "service.namespace": "shop"}),
                             metric_readers=[reader])
    meter = provider.get_meter("cart.metrics")
    orders = meter.create_counter("orders", unit="{order}")
    latency = meter.create_histogram("checkout.latency", unit="ms")
    orders.add(2, {"region": "eu"})
    latency.record(10, {"region": "eu"})
    # Both are cumulative: the first export sets their baselines, the next puts the changes.
    provider.force_flush()
    orders.add(3, {"region": "eu"})
    latency.record(40, {"region": "eu"})
    latency.record(60, {"region": "eu"})
    provider.force_flush()
    # Shutdown exports once more: a counter change of 0, and no histogram samples.
    provider.shutdown()

    cw = make_client(endpoint, "cloudwatch")
    listed = cw.list_metrics(Namespace="shop/cart")["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == ["checkout.latency", "orders"]
    dims = {d["Name"]: d["Value"] for d in listed[0]["Dimensions"]}
    assert dims["region"] == "eu" and dims["service.name"] == "cart" and dims["service.namespace"] == "shop"
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc)

    def stats(name):
        metric = next(m for m in listed if m["MetricName"] == name)
        out = cw.get_metric_statistics(Namespace="shop/cart", MetricName=name, Dimensions=metric["Dimensions"],
                                       StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1),
                                       Period=3600, Statistics=["Sum", "SampleCount", "Minimum", "Maximum"])
        [p] = out["Datapoints"]
        return p["Sum"], p["SampleCount"], p["Minimum"], p["Maximum"], p.get("Unit")

    assert stats("orders") == (3.0, 2.0, 0.0, 3.0, "Count")
    # Min and max are the histogram's own (since its start): 10 and 60.
    assert stats("checkout.latency") == (100.0, 2.0, 10.0, 60.0, "Milliseconds")
