"""Logs and spans through the OpenTelemetry Python SDK's OTLP/HTTP
(protobuf) exporters, gzip-compressed, as an instrumented application does;
driven by tests/otlp.rs.

    send_logs.py ENDPOINT API_KEY COUNT TAG

Sends COUNT records through Python's logging (LoggingHandler) to ENDPOINT
(.../v1/logs), each with attributes (Tag, N, order.id), from a resource with
service.name "otel-py-<TAG>", inside a span "checkout" with a child span
"charge" that fails, the last record with an exception; the spans go to the
matching .../v1/traces. Exits non-zero when an exporter reports a failure.
"""
import logging
import sys

from opentelemetry import trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

endpoint, api_key, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

failures = []


class CountingExporter(OTLPLogExporter):
    def export(self, batch):
        result = super().export(batch)
        if result.name != "SUCCESS":
            failures.append(result)
        return result


class CountingSpanExporter(OTLPSpanExporter):
    def export(self, spans):
        result = super().export(spans)
        if result.name != "SUCCESS":
            failures.append(result)
        return result


resource = Resource.create({"service.name": f"otel-py-{tag}", "deployment.environment": "test"})
provider = LoggerProvider(resource=resource)
headers = {"X-Seq-ApiKey": api_key} if api_key else {}
provider.add_log_record_processor(
    SimpleLogRecordProcessor(
        CountingExporter(endpoint=endpoint, headers=headers, compression=Compression.Gzip)
    )
)
set_logger_provider(provider)
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(
    SimpleSpanProcessor(
        CountingSpanExporter(
            endpoint=endpoint.replace("/v1/logs", "/v1/traces"),
            headers=headers,
            compression=Compression.Gzip,
        )
    )
)
trace.set_tracer_provider(tracer_provider)

log = logging.getLogger("shop.orders")
log.setLevel(logging.DEBUG)
log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))

tracer = trace.get_tracer("shop")
with tracer.start_as_current_span("checkout", attributes={"Tag": tag}):
    for n in range(count - 1):
        log.warning("Order placed", extra={"Tag": tag, "N": n, "order.id": f"ORD-{n}"})
    with tracer.start_as_current_span("charge", attributes={"Tag": tag}) as charge:
        try:
            raise ValueError("card declined")
        except ValueError as e:
            charge.record_exception(e)
            charge.set_status(Status(StatusCode.ERROR, "card declined"))
            log.exception("Payment failed", extra={"Tag": tag, "N": count - 1})

provider.shutdown()
tracer_provider.shutdown()
if failures:
    print(f"export failures: {failures}", file=sys.stderr)
    sys.exit(1)
