import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Exchange } from '../http/exchange.js';
import { DONE_PAYLOAD, encodeEvent, type StreamEvent } from './event-stream.js';
import { TimerWheel, type WheelClock } from './timer-wheel.js';

/** A clock moved by hand: `advance` runs the armed timer when its time has come, as the runtime would. */
class ManualClock implements WheelClock {
  time = 1_000;
  armed: { callback: () => void; at: number } | undefined;
  timersSet = 0;

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    this.timersSet += 1;
    this.armed = { callback, at: this.time + delayMs };
    return this.armed;
  }

  clearTimer(timer: unknown): void {
    if (this.armed === timer) {
      this.armed = undefined;
    }
  }

  advance(milliseconds: number): void {
    const target = this.time + milliseconds;
    while (this.armed !== undefined && this.armed.at <= target) {
      const { callback, at } = this.armed;
      this.armed = undefined;
      this.time = at;
      callback();
    }
    this.time = target;
  }
}

describe('TimerWheel', () => {
  it('runs every wait due on the same tick from one timer, in the order they were scheduled', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel(clock, 10);
    const fired: string[] = [];
    for (let stream = 0; stream < 5; stream += 1) {
      wheel.schedule(100, () => fired.push(`stream ${stream}`));
    }

    expect(wheel.size).toBe(5);
    expect(clock.timersSet).toBe(1);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);

    expect(fired).toEqual(['stream 0', 'stream 1', 'stream 2', 'stream 3', 'stream 4']);
    expect(wheel.size).toBe(0);
    expect(clock.armed).toBeUndefined();
  });

  it('never ends a wait early: a delay is rounded up to the next tick', () => {
    const clock = new ManualClock();
    clock.time = 1_003;
    const wheel = new TimerWheel(clock, 10);
    let firedAt: number | undefined;
    wheel.schedule(15, () => {
      firedAt = clock.time;
    });

    clock.advance(100);

    expect(firedAt).toBe(1_020);
  });

  it('runs earlier ticks first and re-arms for an earlier wait scheduled later', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel(clock, 1);
    const fired: string[] = [];
    wheel.schedule(300, () => fired.push('late'));
    wheel.schedule(100, () => fired.push('early'));
    wheel.schedule(200, () => {
      fired.push('middle');
      wheel.schedule(50, () => fired.push('scheduled by middle'));
    });

    clock.advance(1_000);

    expect(fired).toEqual(['early', 'middle', 'scheduled by middle', 'late']);
  });

  it('drops a cancelled wait, and disarms its timer when nothing else waits', () => {
    const clock = new ManualClock();
    const wheel = new TimerWheel(clock, 1);
    const fired: string[] = [];
    const cancelFirst = wheel.schedule(100, () => fired.push('first'));
    const cancelSecond = wheel.schedule(100, () => fired.push('second'));

    cancelFirst();
    cancelFirst();
    expect(wheel.size).toBe(1);
    clock.advance(100);
    expect(fired).toEqual(['second']);

    const cancelThird = wheel.schedule(100, () => fired.push('third'));
    cancelThird();
    cancelSecond();
    expect(wheel.size).toBe(0);
    expect(clock.armed).toBeUndefined();
    clock.advance(1_000);
    expect(fired).toEqual(['second']);
  });
});

describe('streams on one timer wheel', () => {
  const EVENTS: StreamEvent[] = [
    ...Array.from({ length: 6 }, (_, index) => ({ payload: `{"token":${index}}`, delayBeforeMs: 20 })),
    { payload: DONE_PAYLOAD, delayBeforeMs: 0 },
  ];
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** Sends each event after its delay, every wait on the exchange's wheel, as the simulator's stream delivery does. */
  async function streamEvents(exchange: Exchange, events: readonly StreamEvent[]): Promise<void> {
    exchange.writeHead(200, { 'content-type': 'text/event-stream' });
    exchange.flushHeaders();
    for (const event of events) {
      await exchange.wait(event.delayBeforeMs);
      await exchange.write(encodeEvent(event.payload));
    }
    exchange.end();
  }

  /** A real HTTP server whose every request streams `events` through an Exchange on `wheel`. */
  async function startStreamServer(wheel: TimerWheel, events: readonly StreamEvent[], outcomes: string[]): Promise<number> {
    server = createServer((_request, response) => {
      const exchange = new Exchange(
        response,
        { onCompleted: () => outcomes.push('completed'), onAborted: () => outcomes.push('aborted') },
        {},
        wheel,
      );
      // A wait that a departed client cut short rejects; the exchange has counted it as aborted.
      streamEvents(exchange, events).catch(() => undefined);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server!.address() as AddressInfo).port;
  }

  /** Reads one stream; `leaveAfter` closes the connection after that many events. */
  function readStream(port: number, leaveAfter?: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          const events = text.split('\n\n').filter((block) => block.startsWith('data: '));
          if (leaveAfter !== undefined && events.length >= leaveAfter) {
            request.destroy();
            resolve(events.map((block) => block.slice('data: '.length)));
          }
        });
        response.on('end', () => resolve(text.split('\n\n').filter(Boolean).map((block) => block.slice('data: '.length))));
      });
      request.on('error', (error) => (leaveAfter === undefined ? reject(error) : undefined));
      request.end();
    });
  }

  it('sends each of many concurrent streams its exact events, in order', async () => {
    const wheel = new TimerWheel();
    const outcomes: string[] = [];
    const port = await startStreamServer(wheel, EVENTS, outcomes);

    const received = await Promise.all(Array.from({ length: 50 }, () => readStream(port)));

    for (const events of received) {
      expect(events).toEqual(EVENTS.map((event) => event.payload));
    }
    expect(outcomes).toEqual(Array.from({ length: 50 }, () => 'completed'));
    expect(wheel.size).toBe(0);
  });

  it('takes a stream whose client left off the wheel at once', async () => {
    const wheel = new TimerWheel();
    const outcomes: string[] = [];
    // The third event is an hour away: only a cancelled wait leaves the wheel before then.
    const events = [EVENTS[0]!, EVENTS[1]!, { payload: '{"token":"late"}', delayBeforeMs: 3_600_000 }, EVENTS[6]!];
    const port = await startStreamServer(wheel, events, outcomes);

    const early = await readStream(port, 2);
    expect(early).toEqual(['{"token":0}', '{"token":1}']);
    expect(wheel.size).toBeLessThanOrEqual(1);

    await vi.waitFor(() => expect(outcomes).toEqual(['aborted']));
    expect(wheel.size).toBe(0);
  });
});
