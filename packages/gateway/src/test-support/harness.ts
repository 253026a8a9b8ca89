import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { startSimulator, type SimulatedModel, type Simulator } from '@dosrouter/provider-sim';
import { configSchema, createLogger, type GatewayConfig } from '@dosrouter/shared';
import { archiveLog, recordTestSecret } from '../../../shared/src/test-support/log-archive.js';
import { startGateway, type RunningGateway } from '../gateway.js';

import { eventually } from '../../../shared/src/test-support/eventually.js';

export { eventually };

/** Collects the gateway's JSON log lines in memory, so that tests can read what was logged. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    archiveLog('gateway-capture', chunk.toString('utf8'));
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  }
  accessLines(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.message === 'request');
  }
}

export interface Harness {
  readonly simulator: Simulator;
  readonly gateway: RunningGateway;
  readonly logs: LogCapture;
  /** An official OpenAI client pointed at the gateway, with the SDK's retries off unless asked for. */
  client(options?: { maxRetries?: number }): OpenAI;
  close(): Promise<void>;
}

export const SIMULATOR_KEY = 'sk-sim-backend-secret-0001';
recordTestSecret(SIMULATOR_KEY);

/** A simulator, and a gateway whose one backend `sim` serves the given models under the same names. */
export async function startHarness(options: {
  models: SimulatedModel[];
  /** Extra config merged over the generated one (before validation). */
  configure?: (config: Record<string, unknown>) => void;
  /** Enables the admin API (and with it, API keys). */
  adminKey?: string;
  /** The simulator also speaks h2c (its `http2` option). */
  simulatorHttp2?: boolean;
}): Promise<Harness> {
  if (options.adminKey) recordTestSecret(options.adminKey);
  const simulator = await startSimulator({ models: options.models, apiKey: SIMULATOR_KEY, ...(options.simulatorHttp2 ? { http2: true } : {}) });
  const document: Record<string, unknown> = {
    logging: { level: 'info' },
    // Probes would add requests at random moments to the simulator's counts; the tests of probing turn it on.
    prober: { embedded: false },
    backends: [
      {
        name: 'sim',
        baseUrl: simulator.baseUrl,
        apiKey: SIMULATOR_KEY,
        models: options.models.map((model) => ({ name: model.id, capabilities: ['streaming', 'tools', 'vision'] })),
      },
    ],
  };
  options.configure?.(document);
  const config: GatewayConfig = configSchema.parse(document);
  const logs = new LogCapture();
  const logger = createLogger({ level: config.logging.level, service: 'gateway', destination: logs });
  const gateway = await startGateway({ config, logger, port: 0, host: '127.0.0.1', ...(options.adminKey ? { adminKey: options.adminKey } : {}) }).catch(async (error: unknown) => {
    await simulator.close();
    throw error;
  });
  return {
    simulator,
    gateway,
    logs,
    client: ({ maxRetries = 0 } = {}) =>
      new OpenAI({ apiKey: 'client-key-not-forwarded', baseURL: `${gateway.url}/v1`, maxRetries, timeout: 20_000 }),
    close: async () => {
      await gateway.close(1_000);
      await simulator.close();
    },
  };
}

/** Awaits a call that must fail with an OpenAI SDK APIError, and returns the error with its headers. */
export async function captureApiError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError> & { headers: Headers }> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  if (!error.headers) throw new Error('the APIError carries no headers');
  return error as InstanceType<typeof OpenAI.APIError> & { headers: Headers };
}

/** Creates a client key through the admin API of the gateway at `url`; its secret is recorded for the log scan. */
export async function createClientKey(url: string, adminKey: string, fields: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const response = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
  if (response.status !== 201) throw new Error(`creating a key answered ${response.status}: ${await response.text()}`);
  const created = (await response.json()) as { id: string; secret: string };
  recordTestSecret(created.secret);
  return created;
}

/** The access line of the request answered with this `x-request-id`, once the gateway has written it. */
export async function accessLineOf(logs: LogCapture, response: Response): Promise<Record<string, unknown>> {
  const requestId = response.headers.get('x-request-id');
  let found: Record<string, unknown> | undefined;
  await eventually(() => (found = logs.accessLines().find((line) => line['requestId'] === requestId)) !== undefined, 10_000, `the access line of ${requestId}`);
  return found!;
}
