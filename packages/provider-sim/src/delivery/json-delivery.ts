import type { ActiveFault } from '../faults/fault-schedule.js';
import type { Exchange } from '../http/exchange.js';
import type { ReportedUsage } from '../state/usage-ledger.js';
import { formatJson, type JsonStyle } from './json-style.js';

/**
 * Sends a complete JSON answer after the time the model would take to generate it. The stream faults have
 * non-streaming forms: stream_cut drops the connection halfway through the body, stream_stall goes silent halfway,
 * malformed_chunk answers 200 with a truncated (so invalid) JSON body. `usage` is the usage object inside `body`, if
 * any: it counts as reported only when the whole body went out. `jsonStyle` is how the model writes its JSON.
 */
export async function deliverJson(
  exchange: Exchange,
  body: unknown,
  generationDelayMs: number,
  fault: ActiveFault | undefined,
  usage: ReportedUsage | undefined,
  jsonStyle: JsonStyle,
): Promise<void> {
  const slowFirstTokenMs = fault?.kind === 'slow_first_token' ? fault.delayMs : 0;
  await exchange.wait(generationDelayMs + slowFirstTokenMs);
  const text = formatJson(body, jsonStyle);
  const half = text.slice(0, Math.ceil(text.length / 2));
  switch (fault?.kind) {
    case 'malformed_chunk':
      exchange.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(half) });
      exchange.end(half);
      return;
    case 'stream_cut':
      exchange.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      exchange.destroyAfterWriting(half);
      return;
    case 'stream_stall':
      exchange.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      await exchange.write(half);
      return;
    default:
      exchange.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      exchange.end(text, usage);
  }
}
