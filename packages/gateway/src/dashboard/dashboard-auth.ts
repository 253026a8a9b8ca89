import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError, type Logger } from '@dosrouter/shared';
import { createAdminKeyCheck, failedAdminLoginsOf, presentedCredential } from '@dosrouter/health-prober';

/** The dashboard's session cookie: `<expiry ms>.<HMAC of it under the admin key>`. */
export const SESSION_COOKIE = 'dosrouter_dashboard';
const SESSION_CONTEXT = 'dosrouter-dashboard-session-v1';

/**
 * Sessions that need no shared store: the cookie carries its expiry and an HMAC of it keyed by the admin key, so
 * any replica behind the load balancer accepts it, and changing the admin key ends every session. Logging out
 * clears the cookie in the browser; a copied cookie stays valid until it expires (`dashboard.sessionHours`).
 */
export class DashboardSessions {
  private readonly secret: Buffer;

  constructor(
    adminKey: string,
    private readonly lifetimeMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.secret = createHash('sha256').update(`${SESSION_CONTEXT}:${adminKey}`, 'utf8').digest();
  }

  /** A new session's cookie value. */
  issue(): string {
    const expires = String(this.clock() + this.lifetimeMs);
    return `${expires}.${this.sign(expires)}`;
  }

  /** Whether `value` is a session this admin key issued that has not expired. */
  accepts(value: string | undefined): boolean {
    if (!value) return false;
    const dot = value.indexOf('.');
    if (dot <= 0) return false;
    const expires = value.slice(0, dot);
    if (!/^\d{1,16}$/.test(expires) || Number(expires) <= this.clock()) return false;
    const given = Buffer.from(value.slice(dot + 1), 'utf8');
    const expected = Buffer.from(this.sign(expires), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The `Set-Cookie` value for a session: HttpOnly, SameSite=Strict, only for /dashboard, Secure over HTTPS. */
  cookie(value: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${value}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.lifetimeMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  clearingCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  private sign(expires: string): string {
    return createHmac('sha256', this.secret).update(expires, 'utf8').digest('base64url');
  }
}

/** The session cookie's value in a `Cookie` header, if any. */
export function sessionCookieOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === SESSION_COOKIE) return part.slice(separator + 1).trim();
  }
  return undefined;
}

export type DashboardAccess = 'admin' | 'missing' | 'wrong';

/** Reads the request's credential: the admin key (Basic with the key as password, or Bearer) or a session cookie. */
export function dashboardAccess(adminKey: string, sessions: DashboardSessions) {
  const matches = createAdminKeyCheck(adminKey);
  return function accessOf(request: Request): DashboardAccess {
    const credential = presentedCredential(request.headers.authorization);
    if (credential.kind !== 'missing') return matches(credential) ? 'admin' : 'wrong';
    const session = sessionCookieOf(request.headers.cookie);
    if (session === undefined) return 'missing';
    return sessions.accepts(session) ? 'admin' : 'wrong';
  };
}

/**
 * Refuses a request another site made (403 `cross_site_request`): by `Sec-Fetch-Site` where the browser sends it
 * (only `same-origin` and `none`, a typed address or bookmark, pass), else by an `Origin` whose host is not this
 * one's. With the SameSite=Strict cookie this keeps another site from reading or driving the dashboard even with
 * Basic credentials the browser remembers.
 */
export function refuseCrossSiteDashboard(request: Request, _response: Response, next: NextFunction): void {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  let crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
  if (!crossSite && site === undefined && origin !== undefined) crossSite = hostOf(origin) !== request.headers.host;
  if (crossSite) {
    next(new GatewayError('The dashboard does not take cross-site requests.', { status: 403, code: 'cross_site_request', type: 'permission_error' }));
    return;
  }
  next();
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Lets the dashboard's data endpoints through only for the admin: 401 `invalid_admin_key` otherwise, without a
 * Basic challenge (the page's script would make the browser show its prompt over the login form). Wrong keys are
 * logged as the admin API's are (summed up when repeated).
 */
export function requireDashboardAdmin(accessOf: (request: Request) => DashboardAccess, logger: Logger) {
  const failedLogins = failedAdminLoginsOf(logger);
  return function requireDashboardAdminMiddleware(request: Request, _response: Response, next: NextFunction): void {
    const access = accessOf(request);
    if (access === 'admin') {
      next();
      return;
    }
    if (access === 'wrong') failedLogins.record(request.originalUrl.split('?')[0]!, request.socket.remoteAddress);
    next(
      new GatewayError(access === 'missing' ? 'The dashboard needs the admin key: log in at /dashboard/login, or send it as the Basic password or a Bearer token.' : 'Invalid admin key or expired session.', {
        status: 401,
        code: 'invalid_admin_key',
        type: 'authentication_error',
      }),
    );
  };
}
