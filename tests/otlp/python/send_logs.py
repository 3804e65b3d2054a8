"""Logs through the OpenTelemetry Python SDK's OTLP/HTTP (protobuf) exporter,
gzip-compressed, as an instrumented application does; driven by tests/otlp.rs.

    send_logs.py ENDPOINT API_KEY COUNT TAG

Sends COUNT records through Python's logging (LoggingHandler), each with
attributes (Tag, N, order.id), from a resource with service.name
"otel-py-<TAG>", inside a span (trace context), the last one with an
exception; exits non-zero when the exporter reports a failure.
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
from opentelemetry.sdk.trace import TracerProvider

endpoint, api_key, count, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

failures = []


class CountingExporter(OTLPLogExporter):
    def export(self, batch):
        result = super().export(batch)
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
trace.set_tracer_provider(TracerProvider(resource=resource))

log = logging.getLogger("shop.orders")
log.setLevel(logging.DEBUG)
log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))

with trace.get_tracer("shop").start_as_current_span("checkout"):
    for n in range(count - 1):
        log.warning("Order placed", extra={"Tag": tag, "N": n, "order.id": f"ORD-{n}"})
    try:
        raise ValueError("card declined")
    except ValueError:
        log.exception("Payment failed", extra={"Tag": tag, "N": count - 1})

provider.shutdown()
if failures:
    print(f"export failures: {failures}", file=sys.stderr)
    sys.exit(1)
