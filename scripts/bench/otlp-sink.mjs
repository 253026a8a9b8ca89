// A minimal OTLP/HTTP traces receiver for measuring the gateway with tracing on (docs/benchmarks.md): answers
// POST /v1/traces with 200 and counts the spans it was sent (JSON encoding). Prints its URL, and the count on exit.
//   node scripts/bench/otlp-sink.mjs [port]      then: OTEL_EXPORTER_OTLP_ENDPOINT=<url> node scripts/bench.mjs …
import { createServer } from 'node:http';

let spans = 0;
let exports = 0;
const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    try {
      const document = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const resource of document.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
      exports += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch {
      response.writeHead(400).end();
    }
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
const stop = () => {
  console.log(`received ${spans} spans in ${exports} exports`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
