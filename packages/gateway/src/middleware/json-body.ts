import type { NextFunction, Request, Response } from 'express';
import { invalidRequest, payloadTooLarge, unsupportedMediaType } from '@dosrouter/shared';

export interface JsonBodyOptions {
  /** Largest accepted body in bytes. */
  readonly limitBytes: number;
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads a JSON object body once and puts it on `request.body`. A wrong content type is a 415, a body over the
 * limit a 413 (refused from Content-Length before reading when it can be), unparseable JSON or a body that is not
 * an object a 400. A refused body is not read further and its connection is closed after the answer.
 */
export function jsonBody({ limitBytes }: JsonBodyOptions) {
  return function jsonBodyMiddleware(request: Request, response: Response, next: NextFunction): void {
    const contentType = request.headers['content-type'];
    if (!contentType || !JSON_CONTENT_TYPE.test(contentType)) {
      refuseBody(request, response);
      next(unsupportedMediaType(contentType));
      return;
    }
    const declaredLength = Number(request.headers['content-length']);
    if (declaredLength > limitBytes) {
      refuseBody(request, response);
      next(payloadTooLarge(limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        done = true;
        request.off('data', onData);
        refuseBody(request, response);
        next(payloadTooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (done) return;
      done = true;
      response.locals.bodyBytes = size;
      next(parseBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), request));
    });
    // An aborted upload needs no answer: the client is gone, and the response 'close' records it.
  };
}

function parseBody(buffer: Buffer, request: Request): Error | undefined {
  if (buffer.length === 0) return invalidRequest('The request body is empty: send a JSON object.', null, 'invalid_json');
  let body: unknown;
  try {
    body = JSON.parse(buffer.toString('utf8'));
  } catch (error) {
    return invalidRequest(
      `We could not parse the JSON body of your request (${(error as Error).message}). Send a valid JSON object.`,
      null,
      'invalid_json',
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalidRequest('The request body must be a JSON object.', null, 'invalid_body');
  }
  request.body = body;
  return undefined;
}

/** Stops reading a body we refuse, and closes the connection after the answer rather than drain it. */
function refuseBody(request: Request, response: Response): void {
  response.setHeader('connection', 'close');
  request.pause();
}
