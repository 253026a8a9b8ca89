import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '@dosrouter/shared';
import { ResponsesSseScanner, responsesDialect } from './responses-sse-scanner.js';

const STREAM = readFileSync(new URL('../translate/fixtures/responses-text-tool-stream.txt', import.meta.url));

describe('ResponsesSseScanner', () => {
  it('passes every event but the closing one, which it holds with the usage it carries', () => {
    for (const size of [1, 50, STREAM.length]) {
      const scanner = new ResponsesSseScanner();
      let forwarded = '';
      for (let start = 0; start < STREAM.length; start += size) {
        forwarded += scanner.push(STREAM.subarray(start, start + size))?.toString() ?? '';
        if (!scanner.firstTokenSeen) expect(forwarded).not.toContain('response.output_text.delta');
      }
      expect(scanner.firstTokenSeen).toBe(true);
      expect(scanner.complete).toBe(true);
      expect(forwarded + scanner.heldEnd).toBe(STREAM.toString());
      expect(scanner.heldEnd).toMatch(/^event: response\.completed\n/);
      expect(scanner.usage).toEqual({ promptTokens: 310, completionTokens: 84, totalTokens: 394, cacheReadTokens: 256 });
      expect(scanner.lastSequence).toBe(16);
    }
  });

  it('notes an error event and a malformed one', () => {
    const failed = new ResponsesSseScanner();
    failed.push(Buffer.from('event: error\ndata: {"type":"error","code":"server_error","message":"x","param":null,"sequence_number":3}\n\n'));
    expect(failed.errorSeen).toBe(true);
    const malformed = new ResponsesSseScanner();
    expect(malformed.push(Buffer.from('data: not json\n\n'))).toBeUndefined();
    expect(malformed.malformedSeen).toBe(true);
  });

  it("numbers the gateway's own error event after the backend's last one", () => {
    const dialect = responsesDialect();
    const scanner = dialect.scanner(false);
    scanner.push(STREAM.subarray(0, STREAM.indexOf('"sequence_number":7')));
    const event = dialect.errorEvent(new GatewayError('The backend stopped.', { status: 502, code: 'upstream_stream_interrupted', type: 'server_error' }));
    expect(event).toBe('event: error\ndata: {"type":"error","code":"upstream_stream_interrupted","message":"The backend stopped.","param":null,"sequence_number":7}\n\n');
  });
});
