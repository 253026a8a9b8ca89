import type { NextFunction, Request, Response } from 'express';
import { bodyTooComplex, invalidRequest, payloadTooLarge, unsupportedMediaType } from '@dosrouter/shared';
import { JsonShapeScanner, type JsonShapeLimit, type JsonShapeLimits } from '../validation/json-shape.js';

export interface JsonBodyOptions {
  /** Largest accepted body in bytes. */
  readonly limitBytes: number;
  /** Its largest shape: `server.bodyLimits`. */
  readonly shapeLimits: JsonShapeLimits;
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** What each shape limit's message says the body has more of. */
const SHAPE_LIMIT_WORDING: Record<JsonShapeLimit, string> = {
  maxDepth: 'deeper nesting of objects and arrays',
  maxObjectKeys: 'more keys in one object',
  maxArrayElements: 'more elements in one array',
  maxValues: 'more values in all',
  maxKeys: 'more keys in all',
  maxDistinctKeys: 'more distinct key names',
};

/**
 * Reads a JSON object body once and puts it on `request.body`. A wrong content type is a 415, a body over the
 * limit a 413 (refused from Content-Length before reading when it can be), a body whose shape goes past
 * `server.bodyLimits` a 400 `body_too_complex` (found as its bytes arrive, before it is parsed),
 * unparseable JSON or a body that is not an object a 400. A refused body is not read further by this middleware:
 * its connection is closed after the answer, with the bounded lingering close of `server.lingeringClose`.
 */
export function jsonBody({ limitBytes, shapeLimits }: JsonBodyOptions) {
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
    const shape = new JsonShapeScanner(shapeLimits);
    let size = 0;
    let done = false;
    const refuse = (error: Error): void => {
      done = true;
      request.off('data', onData);
      refuseBody(request, response);
      next(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        refuse(payloadTooLarge(limitBytes));
        return;
      }
      const exceeded = shape.write(chunk);
      if (exceeded) {
        refuse(bodyTooComplex(exceeded, shapeLimits[exceeded], SHAPE_LIMIT_WORDING[exceeded]));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (done) return;
      done = true;
      // Off the request, so that the chunks and the shape scanner this listener holds go with it: a stream keeps its
      // request for minutes.
      request.off('data', onData);
      response.locals.bodyBytes = size;
      const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      // Kept for the upstream body, which is made from the client's bytes rather than re-serialised (upstream/raw-body.ts).
      response.locals.rawBody = buffer;
      next(parseBody(buffer, request));
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

/**
 * Stops reading a body we refuse and closes the connection after the answer rather than read it all: the rest is
 * read and dropped only within the lingering-close bounds (lifecycle/lingering-close.ts).
 */
function refuseBody(request: Request, response: Response): void {
  response.setHeader('connection', 'close');
  request.pause();
}
