import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { GatewayError, invalidRequest, revisionsOf, type Logger } from '@dosrouter/shared';
import { ADMIN_CHALLENGE, failedAdminLoginsOf } from '@dosrouter/health-prober';
import { explainPlan } from '../routes/explain.js';
import { planRequest, type PlanningDependencies } from '../proxy/plan-request.js';
import type { ConfigSnapshot } from '../reload/config-snapshot.js';
import { validateChatRequest } from '../validation/chat-request.js';
import type { DashboardData } from './dashboard-data.js';
import { DashboardSessions, dashboardAccess, refuseCrossSiteDashboard, requireDashboardAdmin } from './dashboard-auth.js';

/**
 * Where `pnpm run build` puts the page, its script and styles (scripts/build-dashboard.mjs): dist/dashboard-assets,
 * two levels above this module both as source (src/dashboard) and compiled (dist/dashboard).
 */
export const DASHBOARD_ASSETS = fileURLToPath(new URL('../../dist/dashboard-assets/', import.meta.url));

/**
 * The pages' Content-Security-Policy: everything from this origin only, no inline script or style. uPlot sizes its
 * elements through the CSSOM (element.style), which CSP does not restrict; its stylesheet is a served file.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface DashboardRouteOptions {
  readonly adminKey: string;
  readonly sessionHours: number;
  readonly data: DashboardData;
  readonly planning: PlanningDependencies;
  /** The config serving now (its router, catalog): what the explain box plans with. */
  readonly currentConfig: () => ConfigSnapshot;
  /** The JSON body parser the API routes use (with the server's limits), for the explain box. */
  readonly jsonBody: RequestHandler;
  readonly logger: Logger;
}

/**
 * `GET /dashboard` and its JSON under `/dashboard/api/*`: read-only, behind the admin key (Basic with the key as
 * password, Bearer, or the session cookie `POST /dashboard/login` sets), same-origin only, with a strict CSP.
 */
export function registerDashboardRoutes(app: Express, options: DashboardRouteOptions): void {
  if (!existsSync(DASHBOARD_ASSETS)) {
    options.logger.warn('the dashboard is not built: run `pnpm run build`; /dashboard answers 503 meanwhile', { path: DASHBOARD_ASSETS });
  }
  const sessions = new DashboardSessions(options.adminKey, options.sessionHours * 3_600_000);
  const accessOf = dashboardAccess(options.adminKey, sessions);
  const requireAdmin = requireDashboardAdmin(accessOf, options.logger);
  const failedLogins = failedAdminLoginsOf(options.logger);
  const secure = (request: Request): boolean => (request.socket as { encrypted?: boolean }).encrypted === true;
  const page = (name: string) =>
    function sendPage(_request: Request, response: Response, next: NextFunction): void {
      response.sendFile(name, { root: DASHBOARD_ASSETS, headers: { 'content-type': 'text/html; charset=utf-8' } }, (error) => {
        if (error) next(new GatewayError('The dashboard is not built: run `pnpm run build`.', { status: 503, code: 'dashboard_not_built', type: 'server_error' }));
      });
    };

  const router = express.Router({ caseSensitive: true, strict: true });
  router.use(dashboardHeaders, refuseCrossSiteDashboard);
  router.use('/assets', express.static(DASHBOARD_ASSETS, { index: false, dotfiles: 'ignore', etag: true, maxAge: 0 }));
  router.get('/login', page('login.html'));
  router.post('/login', express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 4 }), function logIn(request: Request, response: Response) {
    const key = (request.body as Record<string, unknown> | undefined)?.key;
    const accepted = typeof key === 'string' && key !== '' && accessOf({ headers: { authorization: `Bearer ${key}` } } as Request) === 'admin';
    if (!accepted) {
      if (typeof key === 'string' && key !== '') failedLogins.record('/dashboard/login', request.socket.remoteAddress);
      response.redirect(303, '/dashboard/login?failed=1');
      return;
    }
    response.setHeader('set-cookie', sessions.cookie(sessions.issue(), secure(request)));
    response.redirect(303, '/dashboard');
  });
  router.post('/logout', function logOut(request: Request, response: Response) {
    response.setHeader('set-cookie', sessions.clearingCookie(secure(request)));
    response.redirect(303, '/dashboard/login');
  });
  router.get('/', function dashboardPage(request: Request, response: Response, next: NextFunction) {
    const access = accessOf(request);
    if (access === 'admin') {
      page('index.html')(request, response, next);
      return;
    }
    if (access === 'wrong') failedLogins.record('/dashboard', request.socket.remoteAddress);
    // A browser asks for HTTP Basic credentials only after a challenge: the 401 carries one, and the login form as
    // its body, which the browser shows when the prompt is cancelled (or a session expired).
    response.status(401).setHeader('www-authenticate', ADMIN_CHALLENGE);
    page('login.html')(request, response, next);
  });

  const api = express.Router({ caseSensitive: true, strict: true });
  api.use(requireAdmin);
  api.get('/deployments', (_request: Request, response: Response) => {
    response.json({ object: 'dashboard.deployments', at: Date.now(), data: options.data.deployments() });
  });
  api.get('/replicas', async (_request: Request, response: Response) => {
    const { replicas } = options.planning.cluster;
    const infos = await replicas.readReplicaInfos();
    response.json({ object: 'dashboard.replicas', at: Date.now(), self: replicas.own.id, data: infos, revisions: revisionsOf(infos) });
  });
  api.get('/requests', async (_request: Request, response: Response) => {
    // The list leaves out each request's routing: it is fetched when one is opened.
    const entries = await options.data.recentRequests();
    response.json({ object: 'dashboard.requests', at: Date.now(), data: entries.map(({ routing: _routing, ...entry }) => entry) });
  });
  api.get('/requests/:replica/:id', async (request: Request<{ replica: string; id: string }>, response: Response) => {
    const entry = await options.data.recentRequest(request.params.id, request.params.replica);
    if (!entry) throw new GatewayError(`No recent request ${request.params.id} on ${request.params.replica}: it may have left the ring.`, { status: 404, code: 'request_not_found', type: 'invalid_request_error' });
    response.json({ object: 'dashboard.request', ...entry });
  });
  api.get('/keys', async (_request: Request, response: Response) => {
    response.json({ object: 'dashboard.keys', at: Date.now(), data: await options.data.keys() });
  });
  api.get('/spend', async (_request: Request, response: Response) => {
    response.json({ object: 'dashboard.spend', at: Date.now(), ...(await options.data.spendByModel()) });
  });
  api.post('/explain', options.jsonBody, (request: Request, response: Response) => {
    if (!request.is('application/json')) throw invalidRequest('Send the request to explain as application/json.', null, 'unsupported_media_type');
    const proxied = validateChatRequest(request.body as Record<string, unknown>);
    const { plan, snapshot, unavailable } = planRequest(options.planning, options.currentConfig(), 'chat/completions', '/v1/chat/completions', proxied, request, response);
    const explanation = explainPlan(plan, snapshot, 'openai');
    if (plan.attempts.length === 0) {
      const error = unavailable();
      Object.assign(explanation, { error: error.toBody().error, status: error.status });
    }
    response.json(explanation);
  });
  router.use('/api', api);
  // `/dashboard` and `/dashboard/` are both the page (the router sees `/` for each); its assets have absolute paths.
  app.use('/dashboard', router);
}

/** The headers every dashboard answer carries: CSP, no framing, sniffing, referrer or caching. */
function dashboardHeaders(request: Request, response: Response, next: NextFunction): void {
  if ((request.socket as { encrypted?: boolean }).encrypted) response.setHeader('strict-transport-security', 'max-age=31536000');
  response.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader('referrer-policy', 'no-referrer');
  response.setHeader('cross-origin-opener-policy', 'same-origin');
  response.setHeader('cross-origin-resource-policy', 'same-origin');
  response.setHeader('cache-control', 'no-store');
  next();
}
