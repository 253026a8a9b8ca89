import type { IncomingMessage } from 'node:http';
import { isRecord } from '../json-value.js';
import { SimulatorHttpError } from './http-error.js';

/** Far above any realistic chat request; it only keeps a runaway client from exhausting memory. */
export const MAXIMUM_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Reads the whole body. An oversized body is still read to its end (and dropped) rather than cut off, so that the
 * client gets its 413 instead of a reset connection.
 */
export function readRequestBody(request: IncomingMessage, maximumBytes = MAXIMUM_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maximumBytes) {
        chunks.push(chunk);
      }
    });
    request.on('end', () => {
      if (size > maximumBytes) {
        reject(
          new SimulatorHttpError({
            status: 413,
            message: `Request body is larger than ${maximumBytes} bytes.`,
            type: 'invalid_request_error',
          }),
        );
        return;
      }
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}

export type ParsedBody = { kind: 'empty' } | { kind: 'json'; value: unknown } | { kind: 'invalid' };

export function parseJsonBody(body: Buffer): ParsedBody {
  if (body.length === 0) {
    return { kind: 'empty' };
  }
  try {
    return { kind: 'json', value: JSON.parse(body.toString('utf8')) as unknown };
  } catch {
    return { kind: 'invalid' };
  }
}

/** The JSON object a POST endpoint needs, or the 400 OpenAI gives for anything else. */
export function requireJsonObject(body: ParsedBody): Record<string, unknown> {
  if (body.kind === 'json' && isRecord(body.value)) {
    return body.value;
  }
  if (body.kind === 'empty') {
    throw new SimulatorHttpError({
      status: 400,
      message: 'You must provide a JSON body with your request.',
      type: 'invalid_request_error',
    });
  }
  throw new SimulatorHttpError({
    status: 400,
    message:
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library " +
      'correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
    type: 'invalid_request_error',
  });
}
