import { describe, expect, it } from 'vitest';
import { createAdminKeyCheck, presentedCredential } from './admin-auth.js';

const ADMIN_KEY = 'admin-key-for-tests';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('the admin credential check', () => {
  const matches = createAdminKeyCheck(ADMIN_KEY);
  const accepts = (authorization: string | undefined): boolean => matches(presentedCredential(authorization));

  describe('with a bearer token', () => {
    it('accepts the admin key', () => {
      expect(accepts(`Bearer ${ADMIN_KEY}`)).toBe(true);
    });

    it('reads the scheme case-insensitively and tolerates extra spaces', () => {
      expect(accepts(`bearer   ${ADMIN_KEY} `)).toBe(true);
    });

    it('rejects another key, a prefix of the key and the key with a suffix', () => {
      expect(accepts('Bearer wrong-key')).toBe(false);
      expect(accepts(`Bearer ${ADMIN_KEY.slice(0, -1)}`)).toBe(false);
      expect(accepts(`Bearer ${ADMIN_KEY}x`)).toBe(false);
    });
  });

  describe('with HTTP Basic', () => {
    it('accepts any user name with the admin key as password', () => {
      expect(accepts(basic('admin', ADMIN_KEY))).toBe(true);
      expect(accepts(basic('someone-else', ADMIN_KEY))).toBe(true);
      expect(accepts(basic('', ADMIN_KEY))).toBe(true);
    });

    it('takes the password as everything after the first colon', () => {
      const keyWithColons = 'part:one:two';
      expect(createAdminKeyCheck(keyWithColons)(presentedCredential(basic('user', keyWithColons)))).toBe(true);
    });

    it('rejects a wrong password, and the key given as the user name', () => {
      expect(accepts(basic('admin', 'wrong-key'))).toBe(false);
      expect(accepts(basic(ADMIN_KEY, 'wrong-key'))).toBe(false);
    });
  });

  describe('with a malformed header', () => {
    it.each([
      ['a scheme without a value', 'Bearer'],
      ['an unknown scheme', `Token ${ADMIN_KEY}`],
      ['a key without a scheme', ADMIN_KEY],
      ['three words', `Bearer ${ADMIN_KEY} extra`],
      ['Basic that is not base64', 'Basic not*base64!'],
      ['Basic without a colon', `Basic ${Buffer.from(ADMIN_KEY).toString('base64')}`],
      ['Basic with an empty password', basic('admin', '')],
    ])('rejects %s', (_label, authorization) => {
      expect(presentedCredential(authorization)).toEqual({ kind: 'malformed' });
      expect(accepts(authorization)).toBe(false);
    });

    it('reports a missing or blank header as missing', () => {
      expect(presentedCredential(undefined)).toEqual({ kind: 'missing' });
      expect(presentedCredential('  ')).toEqual({ kind: 'missing' });
      expect(accepts(undefined)).toBe(false);
    });
  });

  describe('with an empty key', () => {
    it('refuses to build a check, so that an empty password can never match', () => {
      expect(() => createAdminKeyCheck('')).toThrow(/DOSROUTER_ADMIN_KEY/);
    });

    it('never accepts an empty credential', () => {
      expect(accepts('Bearer ')).toBe(false);
      expect(accepts('Basic ')).toBe(false);
    });
  });

  it('compares keys of any length without throwing (both sides are hashed first)', () => {
    expect(accepts(`Bearer ${'x'.repeat(10_000)}`)).toBe(false);
    expect(accepts('Bearer é')).toBe(false);
  });
});
