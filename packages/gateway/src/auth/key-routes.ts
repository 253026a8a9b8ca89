import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { requireAdminKey } from '@dosrouter/health-prober';
import { GatewayError, createKeySchema, invalidRequest, rotateKeySchema, updateKeySchema, type ApiKeyRecord, type KeyStore, type Logger } from '@dosrouter/shared';
import { applySecurityHeaders } from '../middleware/security-headers.js';
import type { KeyAuthenticator } from './key-authenticator.js';

/** Parses a body with a zod schema; a mismatch is a 400 naming the first field at fault. */
function parseBody<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join('.') || null;
  throw invalidRequest(`${param ?? 'body'}: ${issue.message}`, param, 'invalid_value');
}

const notFound = (id: string): GatewayError =>
  new GatewayError(`No API key with id ${id}.`, { status: 404, code: 'key_not_found', type: 'not_found_error', param: 'id' });

/**
 * Admin answers carry secrets (create, rotate): never cached, never sniffed. And a browser that holds the admin key
 * as Basic credentials must not be made to write by another site: writes need a JSON body (a cross-site form cannot
 * send one without a CORS preflight, which /admin never grants) and a same-site or direct request.
 */
export function refuseCrossSite(request: Request, response: Response, next: NextFunction): void {
  applySecurityHeaders(request, response, undefined);
  response.setHeader('cache-control', 'no-store');
  if (request.headers['sec-fetch-site'] === 'cross-site') {
    next(new GatewayError('The admin API does not take cross-site requests.', { status: 403, code: 'cross_site_request', type: 'permission_error' }));
    return;
  }
  if (request.method === 'POST' || request.method === 'PATCH') {
    if (!request.is('application/json')) {
      next(new GatewayError('Send the body as application/json.', { status: 415, code: 'unsupported_media_type', type: 'invalid_request_error' }));
      return;
    }
  }
  next();
}

/** The record as the admin API shows it: never a secret or hash (the store keeps none of those in a record). */
const view = (record: ApiKeyRecord) => ({ object: 'api_key', ...record });

/**
 * The admin API for client keys, under /admin/keys, behind DOSROUTER_ADMIN_KEY: create (the secret is in that answer
 * only), list, get, update, revoke (DELETE) and rotate (the old secret keeps working for `graceSeconds`). A change
 * made here is seen by this replica at once and by the others within KEY_CACHE_MS.
 */
export function registerKeyRoutes(app: Express, store: KeyStore, authenticator: KeyAuthenticator, adminKey: string, logger: Logger, clock: () => number = Date.now): void {
  const router = express.Router();
  router.use(requireAdminKey({ adminKey, logger }), refuseCrossSite, express.json({ limit: '64kb' }));
  router.post('/', async (request: Request, response: Response) => {
    const issued = await store.create(parseBody(createKeySchema, request.body), clock());
    logger.info('api key created', { keyId: issued.record.id, name: issued.record.name });
    response.status(201).json({ ...view(issued.record), secret: issued.secret });
  });
  router.get('/', async (_request: Request, response: Response) => {
    response.json({ object: 'list', data: (await store.list()).map(view) });
  });
  router.get('/:id', async (request: Request<{ id: string }>, response: Response) => {
    const record = await store.get(request.params.id);
    if (!record) throw notFound(request.params.id);
    response.json(view(record));
  });
  router.patch('/:id', async (request: Request<{ id: string }>, response: Response) => {
    const fields = parseBody(updateKeySchema, request.body);
    const current = await store.get(request.params.id);
    if (!current) throw notFound(request.params.id);
    // Limits, budget, queue and owner are merged field by field: `--rpm 20` must not drop a concurrency limit.
    const merged = {
      ...fields,
      ...(fields.limits ? { limits: { ...current.limits, ...fields.limits } } : {}),
      ...(fields.budget ? { budget: { ...current.budget, ...fields.budget } } : {}),
      ...(fields.queue ? { queue: { ...current.queue, ...fields.queue } } : {}),
      ...(fields.owner ? { owner: { ...current.owner, ...fields.owner } } : {}),
    };
    const record = await store.update(request.params.id, merged, clock());
    if (!record) throw notFound(request.params.id);
    authenticator.forget(record.id);
    logger.info('api key updated', { keyId: record.id });
    response.json(view(record));
  });
  router.delete('/:id', async (request: Request<{ id: string }>, response: Response) => {
    if (!(await store.revoke(request.params.id, clock()))) throw notFound(request.params.id);
    authenticator.forget(request.params.id);
    logger.info('api key revoked', { keyId: request.params.id });
    response.json({ object: 'api_key.revoked', id: request.params.id, revoked: true });
  });
  router.post('/:id/rotate', async (request: Request<{ id: string }>, response: Response) => {
    const { graceSeconds } = parseBody(rotateKeySchema, request.body);
    const issued = await store.rotate(request.params.id, graceSeconds * 1000, clock());
    if (!issued) throw notFound(request.params.id);
    authenticator.forget(issued.record.id);
    logger.info('api key rotated', { keyId: issued.record.id, graceSeconds });
    response.json({ ...view(issued.record), secret: issued.secret, previous_secret_valid_until: clock() + graceSeconds * 1000 });
  });
  app.use('/admin/keys', router);
}
