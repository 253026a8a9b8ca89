import { afterEach, describe, expect, it } from 'vitest';
import { createClientKey, eventually, type Harness } from './test-support/harness.js';
import type { HoldingBackend } from './test-support/holding-backend.js';
import { leaveWhileQueued, startHeld } from './test-support/queue-scenarios.js';

/**
 * The replica's saturation limit against a backend that holds every request until the test lets it go: past the
 * limit requests wait their fair turn, high priority first, never past the deadline; refusals carry Retry-After;
 * and saturation never moves the backend's circuit.
 */

const MODEL = 'held-model';
const ADMIN_KEY = 'sk-admin-saturation-test-0001';

const running: { harness: Harness; backend: HoldingBackend }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async ({ harness, backend }) => Promise.all([backend.close(), harness.close()])));
});

async function start(saturation: Record<string, unknown>) {
  const started = await startHeld({ model: MODEL, adminKey: ADMIN_KEY, saturation });
  running.push(started);
  return started;
}

/** One chat request with its own tag in the prompt, so the backend's arrival order says who was let through. */
function ask(harness: Harness, key: string, tag: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${harness.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: tag }] }),
    ...(signal ? { signal } : {}),
  });
}

const tagsOf = (backend: HoldingBackend): string[] =>
  backend.bodies.map((body) => ((body.messages as { content: string }[])[0]!.content));

async function waiting(harness: Harness): Promise<number> {
  const scrape = await fetch(`${harness.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((response) => response.text());
  return Number(/dosrouter_saturation_requests\{limit="replica",state="waiting"\} (\d+)/.exec(scrape)?.[1] ?? NaN);
}

describe('saturation', () => {
  describe('when a burst far above the limit arrives', () => {
    it('answers every request fully or with a 429/503 carrying Retry-After, and opens no circuit', async () => {
      const { harness, backend } = await start({ maxConcurrentRequests: 4, maxWaiting: 8, queueTimeoutMs: 300 });
      const [first, second] = [(await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'a' })).secret, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'b' })).secret];
      const responses = Array.from({ length: 40 }, (_, index) => ask(harness, index % 2 === 0 ? first : second, `burst ${index}`));
      await eventually(() => backend.held.length === 4);
      // Whatever waited past 300 ms or found the queue full has been refused by now; then the backend answers.
      await eventually(async () => (await waiting(harness)) === 0, 10_000);
      backend.release();
      const answers = await Promise.all(responses);
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(4);
      for (const answer of answers.filter((candidate) => candidate.status !== 200)) {
        expect([429, 503]).toContain(answer.status);
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        const body = (await answer.json()) as { error: { code: string } };
        expect(['gateway_saturated', 'queue_share_exceeded']).toContain(body.error.code);
      }
      expect(harness.gateway.cluster.breakers.states().get(`held/${MODEL}`)).toBe('closed');
      expect(backend.received).toBe(4);
    });
  });

  describe('when one key sends ten times the load of another into a saturated replica', () => {
    it('lets the quiet key through in turn: its share of the admitted requests matches its weight', async () => {
      const { harness, backend } = await start({ maxConcurrentRequests: 1, maxWaiting: 100, queueTimeoutMs: 20_000 });
      const [noisy, quiet] = [(await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'noisy' })).secret, (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'quiet' })).secret];
      const blocker = ask(harness, noisy, 'blocker');
      await eventually(() => backend.held.length === 1);
      const responses = [
        ...Array.from({ length: 30 }, (_, index) => ask(harness, noisy, `noisy ${index}`)),
        ...Array.from({ length: 3 }, (_, index) => ask(harness, quiet, `quiet ${index}`)),
      ];
      await eventually(async () => (await waiting(harness)) === 33, 10_000);
      // One at a time: each release lets the next request through.
      for (let served = 1; served <= 10; served += 1) {
        backend.release(1);
        await eventually(() => backend.received === served + 1);
      }
      const admitted = tagsOf(backend).slice(1, 11);
      // Equal weights: while both wait, every other request let through is the quiet key's (± one for who goes first).
      expect(admitted.filter((tag) => tag.startsWith('quiet'))).toHaveLength(3);
      expect(admitted.slice(0, 7).filter((tag) => tag.startsWith('quiet')).length).toBeGreaterThanOrEqual(3);
      backend.release();
      for (let index = 11; index < 34; index += 1) {
        await eventually(() => backend.received === index + 1 || backend.held.length > 0);
        backend.release();
      }
      await Promise.all([blocker, ...responses]);
    });
  });

  describe('with priorities', () => {
    it('lets a high-priority request overtake low-priority ones queued before it', async () => {
      const { harness, backend } = await start({ maxConcurrentRequests: 1, queueTimeoutMs: 20_000, priorityHeader: true });
      const key = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'p' })).secret;
      const blocker = ask(harness, key, 'blocker');
      await eventually(() => backend.held.length === 1);
      const low = Array.from({ length: 3 }, (_, index) => ask(harness, key, `low ${index}`, { 'x-dosrouter-priority': 'low' }));
      await eventually(async () => (await waiting(harness)) === 3);
      const high = ask(harness, key, 'high', { 'x-dosrouter-priority': 'high' });
      await eventually(async () => (await waiting(harness)) === 4);
      backend.release(1);
      await eventually(() => backend.received === 2);
      expect(tagsOf(backend)[1]).toBe('high');
      for (let index = 2; index < 5; index += 1) {
        backend.release();
        await eventually(() => backend.received === index + 1);
      }
      backend.release();
      await Promise.all([blocker, high, ...low]);
      expect(tagsOf(backend).slice(2)).toEqual(['low 0', 'low 1', 'low 2']);
    });
  });

  describe('when nothing frees a slot', () => {
    it('refuses a waiting request at its deadline with 503 and Retry-After, and logs how long it waited', async () => {
      const { harness, backend } = await start({ maxConcurrentRequests: 1, queueTimeoutMs: 250 });
      const key = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'deadline' })).secret;
      const blocker = ask(harness, key, 'blocker');
      await eventually(() => backend.held.length === 1);
      const refused = await ask(harness, key, 'late');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('gateway_saturated');
      backend.release();
      await blocker;
      await eventually(() => harness.logs.accessLines().length === 2);
      const late = harness.logs.accessLines().find((line) => line.status === 503)!;
      expect(late.errorCode).toBe('gateway_saturated');
      // It waited its deadline, and the latency says it was not held much past it (a generous bound for a busy box).
      expect(late.latencyMs as number).toBeGreaterThanOrEqual(250);
      expect(late.latencyMs as number).toBeLessThan(5_000);
      expect(backend.received).toBe(1);
    });
  });

  describe('when a queued client disconnects', () => {
    it('frees its place: the next request is let through when a slot frees', async () => {
      const { harness, backend } = await start({ maxConcurrentRequests: 1, queueTimeoutMs: 20_000 });
      const key = (await createClientKey(harness.gateway.url, ADMIN_KEY, { name: 'leaving' })).secret;
      const { blocker, staying } = await leaveWhileQueued(backend, () => waiting(harness), (tag, signal) => ask(harness, key, tag, {}, signal));
      expect(((await staying) as Response).status).toBe(200);
      await blocker;
      expect(tagsOf(backend)).toEqual(['blocker', 'staying']);
    });
  });
});
