import type { ActiveFault } from '../faults/fault-schedule.js';
import type { Exchange } from '../http/exchange.js';
import type { ReportedUsage } from '../state/usage-ledger.js';
import { restylePayload, type JsonStyle } from './json-style.js';

/** One server-sent event: its `data` payload and how long to wait before sending it. */
export interface StreamEvent {
  /** Token events encode theirs when it is read (stream-steps.ts): read it once, when the event is sent. */
  readonly payload: string;
  readonly delayBeforeMs: number;
  /** The SSE `event:` name, which Anthropic's streams send before every `data:`; OpenAI's send none. */
  readonly event?: string | undefined;
}

export const DONE_PAYLOAD = '[DONE]';
/** The broken event the malformed_chunk fault slips into the middle of a stream. */
export const MALFORMED_PAYLOAD = '{not json';

/** What a protocol's stream faults send: the name of the malformed event, and the error event of stream_error. */
export interface StreamDialect {
  /** Anthropic's SDKs skip unnamed events: the broken one must carry a name they parse. */
  readonly malformedEventName?: string;
  readonly errorEvent: StreamEvent;
}

/** An OpenAI stream's error event, as OpenAI sends one when it fails after the first chunk. */
export const OPENAI_STREAM_DIALECT: StreamDialect = {
  errorEvent: {
    payload: JSON.stringify({
      error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
    }),
    delayBeforeMs: 0,
  },
};
/** stream_stall sends at most this many events before going silent. */
const EVENTS_BEFORE_STALL = 3;

interface StreamPlan {
  events: StreamEvent[];
  /** Stop after the event at this index: drop the connection ('cut') or go silent with it open ('stall'). */
  stop?: { afterIndex: number; action: 'cut' | 'stall' };
}

/**
 * Rewrites the event list for the faults that act on streams; `events` ends with the [DONE] event (or Anthropic's
 * message_stop) and starts with `openingEvents` events that carry no token (a chat stream's role chunks), which a
 * fault's `afterTokens` skips. The broken and error events are the `dialect`'s.
 */
export function planStream(
  events: readonly StreamEvent[],
  fault: ActiveFault | undefined,
  openingEvents = 0,
  dialect: StreamDialect = OPENAI_STREAM_DIALECT,
): StreamPlan {
  const dataEvents = Math.max(1, events.length - 1);
  const half = Math.max(1, Math.floor(dataEvents / 2));
  // The index of the event after which the fault acts: after the given token, else the kind's default.
  const after = (fallback: number): number => (fault?.afterTokens === undefined ? fallback : openingEvents + fault.afterTokens - 1);
  switch (fault?.kind) {
    case 'slow_first_token':
      return {
        events: events.map((event, index) =>
          index === 0 ? { payload: event.payload, delayBeforeMs: event.delayBeforeMs + fault.delayMs } : event,
        ),
      };
    case 'malformed_chunk': {
      const at = Math.min(after(half - 1) + 1, events.length - 1);
      return {
        events: [...events.slice(0, at), { payload: MALFORMED_PAYLOAD, delayBeforeMs: 0, event: dialect.malformedEventName }, ...events.slice(at)],
      };
    }
    case 'stream_cut':
      return { events: [...events], stop: { afterIndex: after(half - 1), action: 'cut' } };
    case 'stream_error':
      // About half the answer, then the error event; the stream then ends cleanly, with no [DONE] or message_stop.
      return { events: [...events.slice(0, half), dialect.errorEvent] };
    case 'stream_stall':
      return { events: [...events], stop: { afterIndex: after(Math.min(EVENTS_BEFORE_STALL, half) - 1), action: 'stall' } };
    default:
      return { events: [...events] };
  }
}

/**
 * One SSE event, after an `event:` line when it has a name; a payload of several lines goes out as several `data:`
 * lines, which the client joins with "\n".
 */
export function encodeEvent(payload: string, event?: string): string {
  const data = payload.includes('\n') ? `data: ${payload.split('\n').join('\ndata: ')}\n\n` : `data: ${payload}\n\n`;
  return event === undefined ? data : `event: ${event}\n${data}`;
}

/**
 * Streams the events as SSE. Consecutive events without a delay go out in one write, so a zero-delay model answers
 * with a single write and no timer; a full socket buffer is waited out before the next write. `usage` is what the
 * usage chunk among `events` carries, undefined when there is none; `jsonStyle` is how the model writes its JSON;
 * `openingEvents` the leading events that carry no token (planStream).
 */
export async function deliverEventStream(
  exchange: Exchange,
  events: readonly StreamEvent[],
  fault: ActiveFault | undefined,
  usage: ReportedUsage | undefined,
  jsonStyle: JsonStyle,
  openingEvents = 0,
  dialect: StreamDialect = OPENAI_STREAM_DIALECT,
): Promise<void> {
  const plan = planStream(events, fault, openingEvents, dialect);
  exchange.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let pending = '';
  for (const [index, event] of plan.events.entries()) {
    if (event.delayBeforeMs > 0) {
      if (pending.length > 0) {
        await exchange.write(pending);
        pending = '';
      } else if (index === 0) {
        exchange.flushHeaders();
      }
      await exchange.wait(event.delayBeforeMs);
    }
    pending += encodeEvent(restylePayload(event.payload, jsonStyle), event.event);
    if (plan.stop !== undefined && index === plan.stop.afterIndex) {
      if (plan.stop.action === 'cut') {
        exchange.destroyAfterWriting(pending);
      } else {
        // Stalled on purpose: the connection stays open, silent, until the client gives up or the simulator closes.
        await exchange.write(pending);
      }
      return;
    }
  }
  // A malformed or error event breaks the stream for its client (an SDK throws there), so its usage is never read.
  exchange.end(pending, fault?.kind === 'malformed_chunk' || fault?.kind === 'stream_error' ? undefined : usage);
}
