import { recordTestSecret } from '../../../shared/src/test-support/log-archive.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Queue } from 'bullmq';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis, TEST_REDIS_URL, type TestRedis } from '../../../shared/src/test-support/redis.js';
import { startProberServer, type ProberServer } from './prober-server.js';
import { PROBE_QUEUE_NAME, PROBE_SCHEDULER_ID, capturingLogger, removeQueue, scheduledProbeQueue } from './test-support/probe-queue-fixture.js';

const ADMIN_KEY = 'bull-board-browser-test-admin-key';
recordTestSecret(ADMIN_KEY);
/** Long enough for a cold browser on a loaded CI machine, short enough to fail well inside the test timeout. */
const UI_TIMEOUT_MS = 15_000;

/** Debian's chromium (`apt-get install chromium`, which .ci/run does), or CHROMIUM_PATH. */
function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
    throw new Error('chromium is not installed: apt-get install chromium, or set CHROMIUM_PATH');
  }
}

describe('bull-board in a real browser', () => {
  let redis: TestRedis;
  let queue: Queue;
  let server: ProberServer;
  let browser: Browser;

  /** A page that may only talk to the prober: bull-board's Google Fonts stylesheet is refused, so the test is hermetic. */
  const openPage = async (context: BrowserContext): Promise<Page> => {
    const origin = new URL(server.url).origin;
    await context.route('**/*', (route) => (new URL(route.request().url()).origin === origin ? route.continue() : route.abort()));
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    return page;
  };

  beforeAll(async () => {
    redis = await testRedis('bull-board');
    queue = await scheduledProbeQueue(TEST_REDIS_URL, redis.prefix);
    server = await startProberServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      queues: [queue],
      adminKey: ADMIN_KEY,
      clientKeysRequired: true,
      logger: capturingLogger().logger,
      isReady: () => true,
    });
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: UI_TIMEOUT_MS });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (queue) await removeQueue(queue);
    await redis?.cleanup();
  });

  describe('when the admin logs in with the key as password', () => {
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      context = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY } });
      page = await openPage(context);
    });
    afterAll(() => context?.close());

    it('shows the probe queue on the overview', async () => {
      const response = await page.goto(`${server.url}/admin/queues`);
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('DOSRouter probes');
      const queueLink = page.locator(`a[href$="/queue/${PROBE_QUEUE_NAME}"]`).first();
      await queueLink.waitFor({ state: 'visible' });
      expect((await queueLink.innerText()).trim()).toBe(PROBE_QUEUE_NAME);
    });

    it("opens the queue and shows the scheduler's next run with its data", async () => {
      await page.locator(`a[href$="/queue/${PROBE_QUEUE_NAME}"]`).first().click();
      await page.waitForURL(`**/admin/queues/queue/${PROBE_QUEUE_NAME}`);
      // BullMQ names a scheduler's run `repeat:<scheduler id>:<run time in ms>`.
      await page.getByText(`repeat:${PROBE_SCHEDULER_ID}:`, { exact: false }).first().waitFor({ state: 'visible' });
      await page.getByText('"sim/fast"').first().waitFor({ state: 'visible' });
      // No worker in this test: the first run of an `every` scheduler waits at once (it is not delayed).
      await page.getByText(/^Schedulers\s*1$/).first().waitFor({ state: 'visible' });
    });

    it('lists the scheduler with its interval on the schedulers page', async () => {
      await page.goto(`${server.url}/admin/queues/job-schedulers`);
      const row = page.getByRole('row').filter({ hasText: PROBE_SCHEDULER_ID });
      await row.waitFor({ state: 'visible' });
      expect(await row.innerText()).toMatch(new RegExp(`${PROBE_QUEUE_NAME}[\\s\\S]*every 1m`));
    });
  });

  describe('when the browser has no credential', () => {
    it('gets a 401 with the login challenge and no dashboard', async () => {
      const context = await browser.newContext();
      try {
        const page = await openPage(context);
        const target = `${server.url}/admin/queues`;
        const answered = page.waitForEvent('response', (response) => response.url() === target);
        // Headless chromium has no login prompt to show: with nothing to answer the challenge it cancels the
        // navigation (net::ERR_INVALID_AUTH_CREDENTIALS), as a user pressing Cancel would.
        const navigation = await page.goto(target).then(
          () => 'loaded',
          (error: Error) => error.message,
        );
        const response = await answered;
        expect(response.status()).toBe(401);
        expect(response.headers()['www-authenticate']).toBe('Basic realm="dosrouter-admin"');
        expect(navigation).toContain('ERR_INVALID_AUTH_CREDENTIALS');
        expect(await page.getByText(PROBE_QUEUE_NAME).count()).toBe(0);
      } finally {
        await context.close();
      }
    });
  });

  describe('when the browser sends a wrong key', () => {
    it('gets a 401', async () => {
      const context = await browser.newContext({ httpCredentials: { username: 'admin', password: 'not-the-key' } });
      try {
        const page = await openPage(context);
        const response = await page.goto(`${server.url}/admin/queues`);
        // The browser tried the credential once; the server refused it again, so the browser shows the 401 itself.
        expect(response?.status()).toBe(401);
        expect(await page.locator('body').innerText()).toContain('invalid_admin_key');
        expect(await page.getByText(PROBE_QUEUE_NAME).count()).toBe(0);
      } finally {
        await context.close();
      }
    });
  });
});
