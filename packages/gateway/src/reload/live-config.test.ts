import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type GatewayConfig } from '@dosrouter/shared';
import { eventually } from '../test-support/harness.js';
import { ConfigSnapshot } from './config-snapshot.js';
import { LiveConfig } from './live-config.js';

const configWith = (models: string[]): GatewayConfig =>
  configSchema.parse({
    backends: [
      { name: 'kept', baseUrl: 'http://127.0.0.1:9/v1', models: [{ name: 'k' }] },
      { name: 'changed', baseUrl: 'http://127.0.0.1:9/v1', models: models.map((name) => ({ name })) },
    ],
  });

describe('LiveConfig', () => {
  let live: LiveConfig | undefined;
  afterEach(async () => {
    await live?.close();
    live = undefined;
  });

  it('gives new requests the new snapshot and keeps the old one’s own backends open until its last request is over', async () => {
    const first = await ConfigSnapshot.build(configWith(['m']), []);
    live = new LiveConfig(first);
    const running = live.acquire();
    expect(running).toBe(first);

    const second = await ConfigSnapshot.build(configWith(['m', 'n']), [], first);
    expect(second.backends.get('kept')).toBe(first.backends.get('kept'));
    expect(second.backends.get('changed')).not.toBe(first.backends.get('changed'));
    expect(second.backends.changedSince(first.backends)).toEqual({ added: [], replaced: ['changed'], removed: [] });
    expect(second.revision).not.toBe(first.revision);

    live.swap(second);
    expect(live.acquire()).toBe(second);
    expect(first.backends.get('changed').pool.closed).toBe(false);

    live.release(running);
    await eventually(() => first.backends.get('changed').pool.closed, 5_000, 'the replaced backend closed');
    expect(second.backends.get('kept').pool.closed).toBe(false);
    expect(second.backends.get('changed').pool.closed).toBe(false);
  });

  it('closes a replaced snapshot’s own backends at once when no request runs on it', async () => {
    const first = await ConfigSnapshot.build(configWith(['m']), []);
    live = new LiveConfig(first);
    live.swap(await ConfigSnapshot.build(configWith(['n']), [], first));
    await eventually(() => first.backends.get('changed').pool.closed, 5_000, 'the replaced backend closed');
    expect(first.backends.get('kept').pool.closed).toBe(false);
  });
});
