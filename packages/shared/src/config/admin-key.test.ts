import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminKeyFromEnvironment } from './admin-key.js';
import { ConfigError } from './load.js';

describe('the admin key', () => {
  const directory = mkdtempSync(join(tmpdir(), 'dosrouter-admin-key-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const secret = (name: string, text: string): string => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };

  it('comes from DOSROUTER_ADMIN_KEY, or is absent when that is unset or empty', () => {
    expect(adminKeyFromEnvironment({ DOSROUTER_ADMIN_KEY: 'admin-1' })).toBe('admin-1');
    expect(adminKeyFromEnvironment({ DOSROUTER_ADMIN_KEY: '' })).toBeUndefined();
    expect(adminKeyFromEnvironment({})).toBeUndefined();
  });

  it('comes from the file DOSROUTER_ADMIN_KEY_FILE names, without its trailing newline', () => {
    expect(adminKeyFromEnvironment({ DOSROUTER_ADMIN_KEY_FILE: secret('key', 'admin-from-file\n') })).toBe('admin-from-file');
    expect(adminKeyFromEnvironment({ DOSROUTER_ADMIN_KEY_FILE: secret('crlf', 'admin-crlf\r\n') })).toBe('admin-crlf');
  });

  it('is absent when the file is empty, as with an empty variable', () => {
    expect(adminKeyFromEnvironment({ DOSROUTER_ADMIN_KEY_FILE: secret('empty', '') })).toBeUndefined();
  });

  it('names the variable when the file cannot be read', () => {
    const run = (): unknown => adminKeyFromEnvironment({ DOSROUTER_ADMIN_KEY_FILE: join(directory, 'absent') });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/^DOSROUTER_ADMIN_KEY_FILE: cannot read .*absent: ENOENT/);
  });

  it('refuses both variables at once', () => {
    expect(() => adminKeyFromEnvironment({ DOSROUTER_ADMIN_KEY: 'a', DOSROUTER_ADMIN_KEY_FILE: secret('both', 'b') })).toThrow(
      'DOSROUTER_ADMIN_KEY and DOSROUTER_ADMIN_KEY_FILE are both set',
    );
  });
});
