import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { SIMULATOR_KEY, createClientKey, eventually, startHarness, type Harness } from './test-support/harness.js';
import { HoldingBackend } from './test-support/holding-backend.js';
import { leaveWhileQueued, releaseOneByOne } from './test-support/queue-scenarios.js';

/**
 * Deployments' `maxConcurrent` against backends that hold every request until the test lets it go: a full
 * deployment sends requests to another with room; when none has room they wait their fair turn (key weight, key
 * priority), never past the deadline; refusals carry Retry-After; and none of it moves a circuit.
 */

const MODEL = 'held-model';
const ADMIN_KEY = 'sk-admin-deployment-saturation-0001';

const running: { harness: Harness; backends: HoldingBackend[] }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async ({ harness, backends }) => Promise.all([...backends.map((backend) => backend.close()), harness.close()])));
});

/** A gateway whose model `held-model` is served by one holding backend per entry of `limits` (its maxConcurrent). */
async function start(limits: (number | undefined)[], saturation: Record<string, unknown> = {}, prober?: Record<string, unknown>) {
  const backends = limits.map(() => new HoldingBackend(MODEL));
  const urls = await Promise.all(backends.map((backend) => backend.listen()));
  const harness = await startHarness({
    models: [{ id: 'unused' }],
    adminKey: ADMIN_KEY,
    configure: (config) => {
      const list = config.backends as Record<string, unknown>[];
      limits.forEach((limit, index) => {
        list.unshift({ name: `held${index}`, baseUrl: urls[index], apiKey: SIMULATOR_KEY, models: [{ name: MODEL, ...(limit === undefined ? {} : { maxConcurrent: limit }) }] });
      });
      config.saturation = saturation;
      config.routing = { strategy: 'least-busy' };
      if (prober) config.prober = prober;
    },
  });
  running.push({ harness, backends });
  return { harness, backends };
}

const keyFor = async (harness: Harness, fields: Record<string, unknown>): Promise<string> => (await createClientKey(harness.gateway.url, ADMIN_KEY, fields)).secret;

const clientOf = (harness: Harness, secret: string): OpenAI => new OpenAI({ apiKey: secret, baseURL: `${harness.gateway.url}/v1`, maxRetries: 0, timeout: 30_000 });

/** One chat request tagged in its prompt, so the backend's arrival order says who was let through. */
function ask(harness: Harness, secret: string, tag: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return clientOf(harness, secret).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: tag }] }, { headers, ...(signal ? { signal } : {}) });
}

const tagsOf = (backend: HoldingBackend): string[] => backend.bodies.map((body) => (body.messages as { content: string }[])[0]!.content);

async function waiting(harness: Harness): Promise<number> {
  const scrape = await fetch(`${harness.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((response) => response.text());
  let total = 0;
  for (const match of scrape.matchAll(/dosrouter_deployment_saturation_requests\{deployment="[^"]+",state="waiting"\} (\d+)/g)) total += Number(match[1]);
  return total;
}

describe('deployment maxConcurrent', () => {
  describe('when one deployment of a model is full', () => {
    it('sends the request to another deployment with room, and waits only when none has', async () => {
      const { harness, backends } = await start([2, 2]);
      const secret = await keyFor(harness, { name: 'spread' });
      const answers = Array.from({ length: 4 }, (_, index) => ask(harness, secret, `spread ${index}`));
      await eventually(() => backends[0]!.held.length === 2 && backends[1]!.held.length === 2);
      expect(await waiting(harness)).toBe(0);
      const fifth = ask(harness, secret, 'fifth');
      // It waits in the queues of both deployments at once…
      await eventually(async () => (await waiting(harness)) === 2);
      // …so whichever frees a slot first takes it: here the second one.
      backends[1]!.release(1);
      await eventually(() => backends[1]!.received === 3);
      expect(await waiting(harness)).toBe(0);
      for (const backend of backends) backend.release();
      const all = await Promise.all([...answers, fifth]);
      expect(all.every((answer) => answer.choices[0]!.message.content === 'released')).toBe(true);
      expect(tagsOf(backends[1]!).at(-1)).toBe('fifth');
    });
  });

  describe('when a burst of twice the limit arrives', () => {
    it('answers every request fully or with 503/429 and Retry-After, never exceeds the limit, and opens no circuit', async () => {
      const { harness, backends } = await start([4], { maxWaiting: 2, queueTimeoutMs: 300 });
      const [first, second] = [await keyFor(harness, { name: 'a' }), await keyFor(harness, { name: 'b' })];
      const outcomes = Array.from({ length: 8 }, (_, index) =>
        ask(harness, index % 2 === 0 ? first : second, `burst ${index}`).then(
          (answer) => ({ status: 200, code: undefined, retryAfter: undefined, content: answer.choices[0]!.message.content }),
          (error: InstanceType<typeof OpenAI.APIError>) => ({ status: error.status, code: error.code, retryAfter: error.headers?.get('retry-after'), content: undefined }),
        ),
      );
      await eventually(() => backends[0]!.held.length === 4);
      // Whatever found the queue full or waited past 300 ms has been refused by now; then the backend answers.
      await eventually(async () => (await waiting(harness)) === 0, 10_000);
      backends[0]!.release();
      const results = await Promise.all(outcomes);
      expect(results.filter((result) => result.status === 200)).toHaveLength(4);
      for (const result of results.filter((candidate) => candidate.status !== 200)) {
        expect([429, 503]).toContain(result.status);
        expect(['deployment_saturated', 'queue_share_exceeded']).toContain(result.code);
        expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      expect(backends[0]!.received).toBe(4);
      expect(harness.gateway.cluster.breakers.states().get(`held0/${MODEL}`)).toBe('closed');
      await eventually(() => harness.logs.accessLines().some((line) => line.errorCode === 'deployment_saturated'));
    });
  });

  describe('when one key sends ten times the load of another of three times its weight', () => {
    it("admits the heavier key's requests in proportion to its weight while both wait", async () => {
      const { harness, backends } = await start([1], { maxWaiting: 1_000, queueTimeoutMs: 30_000 });
      const backend = backends[0]!;
      const light = await keyFor(harness, { name: 'light', queue: { weight: 1 } });
      const heavy = await keyFor(harness, { name: 'heavy', queue: { weight: 3 } });
      const blocker = ask(harness, light, 'blocker');
      await eventually(() => backend.held.length === 1);
      const answers = [
        ...Array.from({ length: 60 }, (_, index) => ask(harness, light, `light ${index}`)),
        ...Array.from({ length: 6 }, (_, index) => ask(harness, heavy, `heavy ${index}`)),
      ];
      await eventually(async () => (await waiting(harness)) === 66, 20_000);
      await releaseOneByOne(backend, 8);
      // While both keys wait, weights 3 : 1 give the heavy key 3/4 of the slots: 6 of the first 8 (± 1 for who
      // starts the round).
      const admitted = tagsOf(backend).slice(1, 9);
      const heavyShare = admitted.filter((tag) => tag.startsWith('heavy')).length / admitted.length;
      expect(Math.abs(heavyShare - 0.75)).toBeLessThanOrEqual(0.125);
      while (backend.received < 67) {
        backend.release();
        await eventually(() => backend.held.length > 0 || backend.received === 67);
      }
      backend.release();
      await Promise.all([blocker, ...answers]);
    });
  });

  describe('with priorities as key attributes', () => {
    it("lets a high-priority key's request overtake queued low-priority ones, and ignores the header of a key not allowed to send it", async () => {
      const { harness, backends } = await start([1], { queueTimeoutMs: 30_000 });
      const backend = backends[0]!;
      const low = await keyFor(harness, { name: 'batch', queue: { priority: 'low' } });
      const high = await keyFor(harness, { name: 'interactive', queue: { priority: 'high' } });
      const blocker = ask(harness, low, 'blocker');
      await eventually(() => backend.held.length === 1);
      // The low key's header asks for high: its key does not allow the header (nor does saturation.priorityHeader).
      const queued = Array.from({ length: 3 }, (_, index) => ask(harness, low, `low ${index}`, { 'x-dosrouter-priority': 'high' }));
      await eventually(async () => (await waiting(harness)) === 3);
      const urgent = ask(harness, high, 'high');
      await eventually(async () => (await waiting(harness)) === 4);
      await releaseOneByOne(backend, 4);
      backend.release();
      await Promise.all([blocker, urgent, ...queued]);
      expect(tagsOf(backend)).toEqual(['blocker', 'high', 'low 0', 'low 1', 'low 2']);
    });
  });

  describe('when nothing frees a slot', () => {
    it('refuses at the deadline, which the replica queue and the deployment queue share, with 503 and Retry-After', async () => {
      const { harness, backends } = await start([1], { maxConcurrentRequests: 10, queueTimeoutMs: 400 });
      const secret = await keyFor(harness, { name: 'deadline' });
      const blocker = ask(harness, secret, 'blocker');
      await eventually(() => backends[0]!.held.length === 1);
      const error = (await ask(harness, secret, 'late').catch((caught: unknown) => caught)) as InstanceType<typeof OpenAI.APIError>;
      expect(error.status).toBe(503);
      expect(error.code).toBe('deployment_saturated');
      expect(error.headers?.get('retry-after')).toBe('1');
      backends[0]!.release();
      await blocker;
      await eventually(() => harness.logs.accessLines().length === 2);
      const late = harness.logs.accessLines().find((line) => line.status === 503)!;
      expect(late.latencyMs as number).toBeGreaterThanOrEqual(400);
      // Not held much past it (a generous bound for a busy machine), and never sent to the backend.
      expect(late.latencyMs as number).toBeLessThan(5_000);
      expect(backends[0]!.received).toBe(1);
      expect(harness.gateway.cluster.breakers.states().get(`held0/${MODEL}`)).toBe('closed');
    });
  });

  describe('when a queued client disconnects', () => {
    it('frees its place: the next request gets the slot', async () => {
      const { harness, backends } = await start([1], { queueTimeoutMs: 30_000 });
      const backend = backends[0]!;
      const secret = await keyFor(harness, { name: 'leaving' });
      const { blocker, staying } = await leaveWhileQueued(backend, () => waiting(harness), (tag, signal) => ask(harness, secret, tag, {}, signal));
      expect(((await staying) as OpenAI.ChatCompletion).choices[0]!.message.content).toBe('released');
      await blocker;
      expect(tagsOf(backend)).toEqual(['blocker', 'staying']);
    });
  });

  describe('when requests queue behind the limit for longer than the latency that degrades a deployment', () => {
    it('keeps the deployment healthy at its full weight, with a closed circuit, even with the event loop lagging', async () => {
      const { harness, backends } = await start([1], { queueTimeoutMs: 30_000 }, { probe: { intervalMs: 100, timeoutMs: 90 }, recomputeIntervalMs: 200 });
      const backend = backends[0]!;
      const deployment = `held0/${MODEL}`;
      const secret = await keyFor(harness, { name: 'patient' });
      const scrape = (): Promise<string> => fetch(`${harness.gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((response) => response.text());
      const probes = async (): Promise<number> => Number(new RegExp(`dosrouter_probes_total\\{deployment="${deployment.replace('/', '\\/')}",kind="models",outcome="ok"\\} (\\d+)`).exec(await scrape())?.[1] ?? 0);
      await eventually(async () => (await probes()) >= 3);
      const answers = Array.from({ length: 4 }, (_, index) => ask(harness, secret, `queued ${index}`));
      await eventually(async () => (await waiting(harness)) === 3);
      // The queue holds them through several probes, far past the 100 ms that degrades a deployment's latency…
      const before = await probes();
      await eventually(async () => (await probes()) >= before + 3, 10_000);
      // …and the gateway's own event loop stalls once while a probe is out, as under thousands of streams.
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // spin
      }
      await eventually(async () => (await probes()) >= before + 6, 10_000);
      await releaseOneByOne(backend, 3);
      backend.release();
      expect((await Promise.all(answers)).map((answer) => answer.choices[0]!.message.content)).toEqual(['released', 'released', 'released', 'released']);
      const text = await scrape();
      expect(text).toContain(`dosrouter_deployment_health_state{deployment="${deployment}",state="healthy"} 1`);
      expect(text).toContain(`dosrouter_routing_weight{deployment="${deployment}"} 1`);
      expect(harness.logs.lines.some((line) => line.message === 'deployment health changed' && line.deployment === deployment)).toBe(false);
      expect(harness.gateway.cluster.breakers.states().get(deployment)).toBe('closed');
    });
  });
});
