import { describe, expect, it } from 'vitest';
import type { ActiveFault } from '../faults/fault-schedule.js';
import { DONE_PAYLOAD, MALFORMED_PAYLOAD, planStream, type StreamEvent } from './event-stream.js';

const events: StreamEvent[] = [
  { payload: 'e0', delayBeforeMs: 10 },
  { payload: 'e1', delayBeforeMs: 0 },
  { payload: 'e2', delayBeforeMs: 5 },
  { payload: 'e3', delayBeforeMs: 5 },
  { payload: 'e4', delayBeforeMs: 5 },
  { payload: 'e5', delayBeforeMs: 5 },
  { payload: 'e6', delayBeforeMs: 5 },
  { payload: 'e7', delayBeforeMs: 0 },
  { payload: DONE_PAYLOAD, delayBeforeMs: 0 },
];

function fault(kind: ActiveFault['kind']): ActiveFault {
  return { kind, retryAfterSeconds: 1, retryAfterMs: undefined, delayMs: 300, afterTokens: undefined };
}

describe('planStream', () => {
  it('leaves the events alone without a stream fault', () => {
    expect(planStream(events, undefined)).toEqual({ events });
    expect(planStream(events, fault('rate_limit'))).toEqual({ events });
  });

  it('adds the slow_first_token delay to the first event only', () => {
    const plan = planStream(events, fault('slow_first_token'));

    expect(plan.events.map((event) => event.delayBeforeMs)).toEqual([310, 0, 5, 5, 5, 5, 5, 0, 0]);
  });

  it('puts the malformed event in the middle of the data events', () => {
    const plan = planStream(events, fault('malformed_chunk'));

    expect(plan.events.map((event) => event.payload)).toEqual(['e0', 'e1', 'e2', 'e3', MALFORMED_PAYLOAD, 'e4', 'e5', 'e6', 'e7', DONE_PAYLOAD]);
  });

  it('cuts after half the data events', () => {
    expect(planStream(events, fault('stream_cut')).stop).toEqual({ afterIndex: 3, action: 'cut' });
  });

  it('stalls after at most three events', () => {
    expect(planStream(events, fault('stream_stall')).stop).toEqual({ afterIndex: 2, action: 'stall' });
  });

  it('still sends one event before cutting a very short stream', () => {
    const short = [{ payload: 'e0', delayBeforeMs: 0 }, { payload: DONE_PAYLOAD, delayBeforeMs: 0 }];

    expect(planStream(short, fault('stream_cut')).stop).toEqual({ afterIndex: 0, action: 'cut' });
  });
});
