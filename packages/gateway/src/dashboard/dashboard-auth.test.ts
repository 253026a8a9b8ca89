import { describe, expect, it } from 'vitest';
import { DashboardSessions, sessionCookieOf } from './dashboard-auth.js';

describe('dashboard sessions', () => {
  let now = 1_000_000;
  const sessions = new DashboardSessions('admin-key', 60_000, () => now);

  it('accepts a session it issued until it expires', () => {
    const value = sessions.issue();
    expect(sessions.accepts(value)).toBe(true);
    now += 60_001;
    expect(sessions.accepts(value)).toBe(false);
  });

  it('refuses a session signed with another admin key, a changed expiry, or garbage', () => {
    const value = sessions.issue();
    expect(new DashboardSessions('another-key', 60_000, () => now).accepts(value)).toBe(false);
    const [expires, signature] = value.split('.');
    expect(sessions.accepts(`${Number(expires) + 1_000}.${signature}`)).toBe(false);
    for (const garbage of ['', '.', 'abc', `${expires}.`, `${expires}.x`, '99999999999999999999.x']) expect(sessions.accepts(garbage)).toBe(false);
  });

  it('sets an HttpOnly, SameSite=Strict cookie for /dashboard, Secure over HTTPS', () => {
    expect(sessions.cookie('v', false)).toBe('dosrouter_dashboard=v; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=60');
    expect(sessions.cookie('v', true)).toContain('; Secure');
    expect(sessions.clearingCookie(false)).toContain('Max-Age=0');
  });

  it('finds the session among other cookies', () => {
    expect(sessionCookieOf('a=1; dosrouter_dashboard=123.abc; b=2')).toBe('123.abc');
    expect(sessionCookieOf('a=1')).toBeUndefined();
    expect(sessionCookieOf(undefined)).toBeUndefined();
  });
});
