import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GatewayError, MemoryResponseStore, createLogger, type ResponseStore } from '@dosrouter/shared';
import { LogCapture } from '../test-support/harness.js';
import { conversationInput, StoredResponses } from './stored-responses.js';

const response = (id: string, output: unknown[]) => ({ id, object: 'response', status: 'completed', output });
const call = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' };

const memoryStore = () => new MemoryResponseStore({ ttlMs: 60_000, maxBytesPerResponse: 4_096, maxEntries: 100, maxBytes: 1 << 20 });

/** StoredResponses over `store` (null: none, `responses.store.enabled: false`), with its log and metrics. */
function storedResponses(store: ResponseStore | null = memoryStore()) {
  const logs = new LogCapture();
  const registry = new Registry();
  const responses = new StoredResponses(store ?? undefined, createLogger({ level: 'info', service: 'gateway', destination: logs }), registry, () => 1_000);
  return { responses, logs, registry };
}

/** Lets a `keep` run: it is scheduled with setImmediate, which runs callbacks in order. */
const kept = () => new Promise<void>((resolve) => setImmediate(resolve));

async function errorOf(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(error)}`);
  return error;
}

describe('StoredResponses', () => {
  it('continues a kept response: its conversation, then its output, on the deployment that served it', async () => {
    const { responses } = storedResponses();
    const input = conversationInput(undefined, 'weather in Paris?');
    responses.keep({ response: response('resp_1', [call]), keyId: 'key_a', deployment: 'sim/m', input });
    await kept();
    const continuation = await responses.continuation('key_a', 'resp_1');
    expect(continuation).toEqual({ id: 'resp_1', deployment: 'sim/m', items: [{ role: 'user', content: 'weather in Paris?' }, call] });
    const output = { type: 'function_call_output', call_id: 'call_1', output: '18C' };
    expect(conversationInput(continuation, [output])).toEqual([{ role: 'user', content: 'weather in Paris?' }, call, output]);
  });

  it('refuses to continue another key’s response, an absent one or any when nothing is stored, with OpenAI’s 400', async () => {
    const { responses } = storedResponses();
    responses.keep({ response: response('resp_1', []), keyId: 'key_a', deployment: 'sim/m', input: [] });
    await kept();
    for (const error of [await errorOf(responses.continuation('key_b', 'resp_1')), await errorOf(responses.continuation('key_a', 'resp_2'))]) {
      expect(error.toBody().error).toEqual({ message: expect.stringMatching(/^Previous response with id 'resp_[12]' not found\.$/), type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' });
      expect(error.status).toBe(400);
    }
    const disabled = await errorOf(storedResponses(null).responses.continuation('key_a', 'resp_1'));
    expect(disabled.message).toMatch(/does not store responses \(responses\.store\.enabled is false\)/);
  });

  it('does not keep a response past the size bound: it logs and counts it, and a continuation is told why', async () => {
    const { responses, logs, registry } = storedResponses();
    responses.keep({ response: response('resp_big', [{ type: 'message', content: [{ type: 'output_text', text: 'x'.repeat(5_000) }] }]), keyId: 'key_a', deployment: 'sim/m', input: [] });
    await kept();
    const error = await errorOf(responses.continuation('key_a', 'resp_big'));
    expect(error.code).toBe('previous_response_not_found');
    expect(error.message).toMatch(/not stored: at \d+ bytes it was larger than responses\.store\.maxBytesPerResponse \(4096\)/);
    await expect(responses.read('key_a', 'resp_big')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(logs.lines.find((line) => line.responseId === 'resp_big')).toMatchObject({ level: 'warn', bytes: expect.any(Number), limit: 4_096 });
    expect(await registry.getSingleMetricAsString('dosrouter_stored_responses_total')).toContain('outcome="too_large"} 1');
  });

  it('answers a store that fails with a retryable 503, and logs a save that fails without throwing', async () => {
    const failing: ResponseStore = {
      save: () => Promise.reject(new Error('Connection is closed.')),
      get: () => Promise.reject(new Error('Connection is closed.')),
      delete: () => Promise.reject(new Error('Connection is closed.')),
      close: async () => undefined,
    };
    const { responses, logs, registry } = storedResponses(failing);
    expect(await errorOf(responses.continuation('key_a', 'resp_1'))).toMatchObject({ status: 503, code: 'responses_unavailable', retryable: true });
    expect(await errorOf(responses.remove('key_a', 'resp_1'))).toMatchObject({ status: 503 });
    for (const id of ['resp_1', 'resp_2', 'resp_3']) responses.keep({ response: response(id, []), keyId: 'key_a', deployment: 'sim/m', input: [] });
    await expect.poll(() => registry.getSingleMetricAsString('dosrouter_stored_responses_total')).toContain('outcome="failed"} 3');
    // One line for the first failure; the others within the minute are only counted.
    expect(logs.lines.filter((line) => line.message === 'a response could not be stored')).toEqual([expect.objectContaining({ responseId: 'resp_1', error: 'Connection is closed.' })]);
  });
});
