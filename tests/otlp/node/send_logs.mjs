// Logs through the OpenTelemetry JavaScript SDK's OTLP/HTTP log exporter
// (OTLP/JSON), as an instrumented Node.js application does; driven by
// tests/otlp.rs.
//
//   node send_logs.mjs ENDPOINT API_KEY COUNT TAG
//
// Sends COUNT records with attributes (Tag, N, order.id) from a resource
// with service.name "otel-js-<TAG>", the last one with the OpenTelemetry
// exception attributes; exits non-zero when the exporter reports a failure.
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';

const [endpoint, apiKey, countText, tag] = process.argv.slice(2);
const count = Number(countText);
const failures = [];
const exporter = new OTLPLogExporter({
  url: endpoint,
  headers: apiKey ? { 'X-Seq-ApiKey': apiKey } : {},
});
const exportOnce = exporter.export.bind(exporter);
exporter.export = (records, done) =>
  exportOnce(records, (result) => {
    if (result.code !== 0) failures.push(result.error ? String(result.error) : result.code);
    done(result);
  });
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': `otel-js-${tag}` }),
  processors: [new BatchLogRecordProcessor({ exporter })],
});
const logger = provider.getLogger('shop.js', '2.0.0');
for (let n = 0; n < count - 1; n++) {
  logger.emit({
    severityNumber: SeverityNumber.INFO,
    body: 'Order placed',
    attributes: { Tag: tag, N: n, 'order.id': `ORD-${n}` },
  });
}
const error = new Error('card declined');
logger.emit({
  severityNumber: SeverityNumber.ERROR,
  severityText: 'ERROR',
  body: 'Payment failed',
  attributes: {
    Tag: tag,
    N: count - 1,
    'exception.type': 'Error',
    'exception.message': error.message,
    'exception.stacktrace': error.stack,
  },
});
await provider.forceFlush();
await provider.shutdown();
if (failures.length > 0) {
  console.error(`export failures: ${failures.join(', ')}`);
  process.exit(1);
}
