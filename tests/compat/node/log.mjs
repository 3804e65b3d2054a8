// Logs through the real npm Seq clients to a Skein node, as their users do.
// Driven by tests/compat.rs; dependencies installed by tests/run-all.sh
// (`npm ci` in this folder).
//
//   node log.mjs <serverUrl> <marker>
//
// Sends three events with seq-logging's own Logger (levels `Information`,
// lowercase `warn` as winston-seq sends, `Error` with an exception) and
// three through pino + pino-seq (info, warn, error with `err`). Every event
// carries the property Marker = <marker>. Exits non-zero if any client
// reports an error or a batch is refused, so a refusal fails the test.
import { Logger } from 'seq-logging';
import pino from 'pino';
import { createStream } from 'pino-seq';

const [serverUrl, marker] = process.argv.slice(2);
if (!serverUrl || !marker) {
  console.error('usage: node log.mjs <serverUrl> <marker>');
  process.exit(2);
}

const errors = [];
const onError = (e) => {
  errors.push(String(e));
  console.error('[client error]', e);
};

// seq-logging directly: the library under pino-seq, bunyan-seq, winston-seq.
const seq = new Logger({ serverUrl, onError, maxBatchingTime: 100, maxRetries: 1 });
const nested = { Region: 'eu', Tags: ['a', 'b'], Inner: { Depth: 2, Ok: true } };
seq.emit({
  timestamp: new Date(),
  level: 'Information',
  messageTemplate: 'Compat {Marker} hello {User}',
  properties: { Marker: marker, Client: 'seq-logging', User: 'alice', Count: 42, Ratio: 0.25, Nested: nested },
});
seq.emit({
  timestamp: new Date(),
  level: 'warn',
  messageTemplate: 'Compat {Marker} disk at {Percent}%',
  properties: { Marker: marker, Client: 'seq-logging', Percent: 91 },
});
const failure = new Error(`boom ${marker}`);
seq.emit({
  timestamp: new Date(),
  level: 'Error',
  messageTemplate: 'Compat {Marker} failed',
  properties: { Marker: marker, Client: 'seq-logging' },
  exception: failure.stack,
});

// pino + pino-seq.
const stream = createStream({ serverUrl, onError, maxBatchingTime: 100 });
const log = pino({ name: 'compat' }, stream);
log.info({ Marker: marker, Client: 'pino-seq', Count: 3, Nested: nested }, 'Pino {Marker} info');
log.warn({ Marker: marker, Client: 'pino-seq' }, 'Pino {Marker} warn');
log.error({ Marker: marker, Client: 'pino-seq', err: new Error(`pino boom ${marker}`) }, 'Pino {Marker} error');

try {
  await seq.close();
  await stream.flush();
} catch (e) {
  onError(e);
}
if (errors.length > 0) {
  console.error(`${errors.length} client error(s)`);
  process.exit(1);
}
console.log('sent 6 events');
