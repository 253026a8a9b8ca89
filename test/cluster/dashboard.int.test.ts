import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTestSecret } from '../../packages/shared/src/test-support/log-archive.js';
import { REPOSITORY, eventually, startTestCluster, type TestCluster } from './support/test-cluster.js';

const ADMIN_KEY = `dashboard-admin-${randomBytes(8).toString('hex')}`;
recordTestSecret(ADMIN_KEY);
/** Long enough for a cold browser on a loaded machine, short enough to fail inside the test timeout. */
const UI_TIMEOUT_MS = 20_000;
/** The issue's bound: an opened circuit is on the page within 2 s. */
const CIRCUIT_VISIBLE_MS = 2_000;
/** Screenshots of each view: a test artifact, not committed (.gitignore). */
const ARTIFACTS = join(REPOSITORY, 'test-artifacts', 'dashboard');

/** Debian's chromium, or CHROMIUM_PATH (as the bull-board browser test finds it). */
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
    throw new Error('chromium is not installed: apt-get install chromium, or set CHROMIUM_PATH');
  }
}

const basic = (key: string): string => `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`;

describe('the dashboard in a real browser, against 2 gateway replicas and a prober on Redis', () => {
  let test: TestCluster;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let client: OpenAI;
  let keyId: string;
  const cspViolations: string[] = [];

  /** A page that may only reach the cluster's origin: nothing is fetched from anywhere else. */
  const openPage = async (browserContext: BrowserContext, allowed: string[] = [new URL(test.url).origin]): Promise<Page> => {
    await browserContext.route('**/*', (route) => (allowed.includes(new URL(route.request().url()).origin) ? route.continue() : route.abort()));
    const opened = await browserContext.newPage();
    opened.setDefaultTimeout(UI_TIMEOUT_MS);
    opened.on('console', (message) => {
      if (/Content Security Policy|Failed to load resource/i.test(message.text())) cspViolations.push(`${message.text()} ${message.location().url}`);
    });
    return opened;
  };

  /** After two animation frames: uPlot draws its canvases in one. */
  const screenshot = async (name: string): Promise<void> => {
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    test = await startTestCluster({
      models: [
        { id: 'm', firstTokenDelayMs: 5, outputTokens: 8 },
        { id: 'flaky', firstTokenDelayMs: 5, outputTokens: 8 },
      ],
      replicas: 2,
      probers: 1,
      gatewayEnvironment: { DOSROUTER_ADMIN_KEY: ADMIN_KEY },
      configure: (config) => {
        const backend = (config.backends as Record<string, unknown>[])[0]!;
        backend.models = [
          // Priced high enough that one request's cost shows in the spend column.
          { name: 'm', capabilities: ['streaming'], pricing: { inputPerMTok: 1_000, outputPerMTok: 2_000 } },
          // Opens after 3 failed attempts, and stays open well past the test.
          { name: 'flaky', capabilities: ['streaming'], breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, cooldownMs: 120_000 } },
        ];
        // A probe that succeeds closes a circuit errors opened: the first one runs at start, the next in 2 minutes.
        config.prober = { embedded: false, probe: { intervalMs: 120_000 } };
        config.redis = { pollIntervalMs: 250 };
        config.usage = { claimIdleMs: 2_000 };
      },
    });
    const created = await fetch(`${test.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dashboard-test-team', limits: { requestsPerMinute: 1_000 }, budget: { dailyUsd: 50, monthlyUsd: 500 } }),
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; secret: string };
    recordTestSecret(key.secret);
    keyId = key.id;
    client = new OpenAI({ apiKey: key.secret, baseURL: `${test.url}/v1`, maxRetries: 0, timeout: 20_000 });
    // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: UI_TIMEOUT_MS });
    context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    page = await openPage(context);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await test?.close();
  });

  it('logs in through the form, which sets an HttpOnly, SameSite=Strict session cookie', async () => {
    // Without a credential the page is a 401 with a Basic challenge (a browser's prompt; headless chromium has none
    // to show and cancels the navigation) whose body is the login form.
    const challengedPage = await context.newPage();
    const challenged = challengedPage.waitForEvent('response', (response) => response.url() === `${test.url}/dashboard`);
    const navigation = await challengedPage.goto(`${test.url}/dashboard`).then(
      () => 'loaded',
      (error: Error) => error.message,
    );
    const challenge = await challenged;
    expect([challenge.status(), challenge.headers()['www-authenticate']]).toEqual([401, 'Basic realm="dosrouter-admin"']);
    expect(navigation).toContain('ERR_INVALID_AUTH_CREDENTIALS');
    await challengedPage.close();

    await page.goto(`${test.url}/dashboard/login`);
    await page.fill('#key', 'not-the-admin-key');
    await page.click('button[type=submit]');
    await page.waitForURL('**/dashboard/login?failed=1');
    expect(await page.isVisible('#failed')).toBe(true);

    await page.fill('#key', ADMIN_KEY);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/dashboard$/);
    await page.locator('#deployments-table tr[data-deployment="sim/m"]').waitFor();
    const [cookie] = (await context.cookies()).filter((candidate) => candidate.name === 'dosrouter_dashboard');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
    await screenshot('deployments');
  });

  it('logs in with HTTP Basic, the admin key as password', async () => {
    const basicContext = await browser.newContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY } });
    try {
      const basicPage = await openPage(basicContext);
      await basicPage.goto(`${test.url}/dashboard#replicas`);
      await basicPage.locator('#replicas-table tr[data-role="gateway"]').first().waitFor();
    } finally {
      await basicContext.close();
    }
  });

  it('shows both replicas and the prober', async () => {
    await page.goto(`${test.url}/dashboard#replicas`);
    for (const replica of test.cluster.replicas) await page.locator(`#replicas-table tr[data-replica="${replica.id}"][data-role="gateway"]`).waitFor();
    await page.locator(`#replicas-table tr[data-replica="${test.cluster.probers[0]!.id}"][data-role="prober"]`).waitFor();
    const row = await page.locator(`#replicas-table tr[data-replica="${test.cluster.replicas[0]!.id}"]`).innerText();
    expect(row).toMatch(/gateway\s+0\.1\.0\s+[0-9a-f]{12}\s+\d+m \d+s\s+ok/);
    await screenshot('replicas');
  });

  it('shows a circuit opened by a faulted simulator within 2 s, with why it opened', async () => {
    await page.goto(`${test.url}/dashboard#deployments`);
    const flaky = page.locator('#deployments-table tr[data-deployment="sim/flaky"]');
    await flaky.waitFor();
    expect(await flaky.getAttribute('data-circuit')).toBe('closed');

    await test.injectFaults([{ kind: 'server_error', count: 50, model: 'flaky' }]);
    let opened = false;
    for (let sent = 0; sent < 10 && !opened; sent += 1) {
      const error = await client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'hello' }] }).then(
        () => undefined,
        (failure: unknown) => failure as { status?: number; code?: string },
      );
      opened = error?.code === 'circuit_open';
    }
    expect(opened).toBe(true);
    // The client was just told the circuit is open: from here the page has 2 s (it polls every second).
    const openedAt = Date.now();
    await page.locator('#deployments-table tr[data-deployment="sim/flaky"][data-circuit="open"]').waitFor();
    const visibleAfterMs = Date.now() - openedAt;
    console.info(`circuit open on the page ${visibleAfterMs} ms after the client saw circuit_open`);
    expect(visibleAfterMs).toBeLessThanOrEqual(CIRCUIT_VISIBLE_MS);
    expect(await flaky.innerText()).toContain('error rate over the breaker threshold');
    await screenshot('deployments-circuit-open');
  });

  it('lists requests from both replicas, and opens one to show how it was routed', async () => {
    const requestIds: string[] = [];
    for (let index = 0; index < 6; index += 1) {
      const requestId = `dashboard-test-${randomBytes(6).toString('hex')}`;
      requestIds.push(requestId);
      await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `secret prompt ${index}` }] }, { headers: { 'x-request-id': requestId } });
    }
    // The replicas' access lines say which served each (they are written as the responses close).
    await eventually(() => requestIds.every((requestId) => test.replicaOf(requestId) !== undefined), 10_000, 'the access lines');
    expect(new Set(requestIds.map((requestId) => test.replicaOf(requestId))).size).toBe(2);

    await page.goto(`${test.url}/dashboard#requests`);
    // Each replica's page shows the other's requests: both replicas' rows are listed, whichever served the page.
    for (const requestId of requestIds) await page.locator(`#requests-table tr[data-request-id="${requestId}"]`).waitFor();
    const row = page.locator(`#requests-table tr[data-request-id="${requestIds[0]}"]`);
    const text = await row.innerText();
    expect(text).toContain('sim/m: ok');
    expect(text).toContain('dashboard-test-team');
    expect(text).not.toContain(ADMIN_KEY);
    // No prompt text unless dashboard.includePrompts.
    expect(await page.locator('#requests-table').innerText()).not.toContain('secret prompt');

    await row.click();
    const explanation = page.locator(`#request-detail .explanation[data-request-id="${requestIds[0]}"]`);
    await explanation.waitFor();
    expect(await explanation.innerText()).toMatch(/Planned attempts: sim\/m[\s\S]*Attempts made: sim\/m \(ok\)/);
    await screenshot('requests');
  });

  it("shows a key's spend rise after its requests", async () => {
    await page.goto(`${test.url}/dashboard#keys`);
    const spendCell = page.locator(`#keys-table tr[data-key-id="${keyId}"] td[data-spend-today]`);
    await spendCell.waitFor();
    const spent = async (): Promise<number> => Number(await spendCell.getAttribute('data-spend-today'));
    const before = await spent();
    // What these requests cost, as the gateway priced them: the page's figure must grow by at least that much (it
    // only ever grows; earlier requests still being counted can only add to it).
    let cost = 0;
    for (let index = 0; index < 3; index += 1) {
      const { response } = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'more please' }] }).withResponse();
      cost += Number(response.headers.get('x-dosrouter-cost-usd'));
    }
    expect(cost).toBeGreaterThan(0);
    await eventually(async () => (await spent()) >= before + cost - 1e-9, 20_000, 'the spend to rise by the requests\' cost');
    await page.locator('#spend-chart .uplot').waitFor();
    expect(await page.locator('#spend-chart .u-legend .u-series').count()).toBeGreaterThanOrEqual(2);
    await screenshot('keys');
  });

  it('explains a pasted request with the existing explain endpoint', async () => {
    await page.goto(`${test.url}/dashboard#explain`);
    await page.fill('#explain-input', JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
    await page.click('#explain-button');
    await eventually(async () => (await page.locator('#explain-output').innerText()).includes('"object": "router.explanation"'), UI_TIMEOUT_MS, 'the explanation');
    expect(await page.locator('#explain-output').innerText()).toContain('"attempts": [\n    "sim/m"\n  ]');
    await screenshot('explain');
  });

  it('draws the last minutes of traffic as sparklines', async () => {
    // Samples are taken every 10 s: by now the cluster has run long enough for a few.
    await page.goto(`${test.url}/dashboard#deployments`);
    await page.locator('#deployments-table tr[data-deployment="sim/m"] .sparkline .uplot').first().waitFor();
    await eventually(async () => Number(await page.locator('#deployments-table tr[data-deployment="sim/m"] td').nth(5).innerText()) > 0, UI_TIMEOUT_MS, 'sim/m requests per second');
    // The requests-per-second sparkline's canvas has something drawn on it (a line needs two samples).
    const inkedPixels = `(() => {
      const canvas = document.querySelector('#deployments-table tr[data-deployment="sim/m"] .sparkline canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let index = 3; index < pixels.length; index += 4) if (pixels[index] > 0) inked += 1;
      return inked;
    })()`;
    await eventually(async () => ((await page.evaluate(inkedPixels)) as number) > 0, UI_TIMEOUT_MS, 'a drawn sparkline');
    await screenshot('deployments-traffic');
  });

  it('ran with no Content-Security-Policy violation and no missing resource', () => {
    expect(cspViolations).toEqual([]);
  });

  describe('refusals', () => {
    const api = (path: string) => `${test.url}/dashboard/api/${path}`;

    it('refuses the page and every data endpoint without the admin key, or with a wrong one', async () => {
      for (const path of ['deployments', 'replicas', 'requests', 'keys', 'spend']) {
        for (const headers of [{}, { authorization: basic('wrong-key') }, { authorization: 'Bearer wrong-key' }, { cookie: 'dosrouter_dashboard=9999999999999.forged' }] as Record<string, string>[]) {
          const response = await fetch(api(path), { headers });
          expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
          expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_admin_key');
        }
      }
      const explain = await fetch(api('explain'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m","messages":[]}' });
      expect(explain.status).toBe(401);
      const wrongBasic = await fetch(`${test.url}/dashboard`, { headers: { authorization: basic('wrong-key') }, redirect: 'manual' });
      expect(wrongBasic.status).toBe(401);
      const noKey = await fetch(`${test.url}/dashboard`, { redirect: 'manual' });
      expect([noKey.status, noKey.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="dosrouter-admin"']);
      // Its body is the login form: what a browser shows when its prompt is cancelled.
      expect(await noKey.text()).toContain('action="/dashboard/login"');
      expect((await fetch(api('keys'), { headers: { authorization: basic(ADMIN_KEY) } })).status).toBe(200);
    });

    it('refuses cross-site requests, by Sec-Fetch-Site and by Origin, even with the admin key', async () => {
      const admin = { authorization: basic(ADMIN_KEY) };
      expect((await fetch(api('keys'), { headers: { ...admin, 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
      expect((await fetch(api('keys'), { headers: { ...admin, 'sec-fetch-site': 'same-site' } })).status).toBe(403);
      expect((await fetch(api('keys'), { headers: { ...admin, origin: 'http://attacker.example' } })).status).toBe(403);
      const login = await fetch(`${test.url}/dashboard/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://attacker.example' },
        body: `key=${encodeURIComponent(ADMIN_KEY)}`,
        redirect: 'manual',
      });
      expect([login.status, login.headers.get('set-cookie')]).toEqual([403, null]);
    });

    it("refuses another site's page that calls the API from the logged-in browser", async () => {
      const attacker: Server = createServer((_request, response) => {
        response.setHeader('content-type', 'text/html');
        response.end(`<!doctype html><script>fetch(${JSON.stringify(api('keys'))}, { credentials: 'include', mode: 'no-cors' }).catch(() => {});</script>`);
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      try {
        const attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
        // The logged-in context: it holds the session cookie.
        const attackerPage = await context.newPage();
        await context.unroute('**/*');
        await context.route('**/*', (route) => ([new URL(test.url).origin, attackerOrigin].includes(new URL(route.request().url()).origin) ? route.continue() : route.abort()));
        const refusedBefore = test.nginxAccessLog().filter((line) => line.uri === '/dashboard/api/keys' && line.status === 403).length;
        // The answer never reaches the attacker's script: its Cross-Origin-Resource-Policy blocks it in the browser
        // (which reports the request failed); what the gateway answered is in nginx's access log.
        const blocked = attackerPage.waitForEvent('requestfailed', (request) => request.url() === api('keys'));
        await attackerPage.goto(attackerOrigin);
        expect((await blocked).failure()?.errorText).toContain('ERR_BLOCKED_BY_RESPONSE');
        await eventually(
          () => test.nginxAccessLog().filter((line) => line.uri === '/dashboard/api/keys' && line.status === 403).length > refusedBefore,
          10_000,
          'the refusal in the access log',
        );
        await attackerPage.close();
      } finally {
        await new Promise((resolve) => attacker.close(resolve));
      }
    });
  });
});
