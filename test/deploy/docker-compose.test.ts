import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Service {
  image?: string;
  command?: string[];
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
}

const repository = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(`${repository}docker-compose.yml`, 'utf8')) as Compose;
const { version } = JSON.parse(readFileSync(`${repository}package.json`, 'utf8')) as { version: string };

describe('docker-compose.yml', () => {
  it('keeps Redis on disk: an append-only file synced every second, on a named volume', () => {
    const redis = compose.services.redis!;
    const command = redis.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync everysec/);
    expect(command).not.toMatch(/--save ""|--save ''/);
    const dataVolume = redis.volumes?.map((volume) => volume.split(':')).find(([, target]) => target === '/data');
    expect(dataVolume).toBeDefined();
    // A named volume, declared at the top level; not a bind mount of a host path.
    expect(dataVolume![0]).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    expect(compose.volumes).toHaveProperty(dataVolume![0]!);
  });

  it('publishes nginx on 127.0.0.1 only, and nothing else', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'nginx') expect(service.ports).toEqual(['127.0.0.1:8080:8080']);
      else expect(service.ports, name).toBeUndefined();
    }
  });

  it('pins every image to a version: no latest, none untagged', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const tag = /^[^:@]+:([^@]+)$/.exec(service.image ?? '')?.[1];
      expect(tag, name).toMatch(/^\d+\.\d+\.\d+/);
    }
    expect(compose.services.gateway?.image).toBe(`dosrouter:${version}`);
  });

  it('gives the gateways and the prober the admin key as a secret file, never in their environment', () => {
    expect(compose.secrets?.admin_key?.file).toBeDefined();
    for (const name of ['gateway', 'prober']) {
      const service = compose.services[name]!;
      expect(service.secrets, name).toEqual(['admin_key']);
      expect(service.environment?.DOSROUTER_ADMIN_KEY_FILE, name).toBe('/run/secrets/admin_key');
      expect(service.environment, name).not.toHaveProperty('DOSROUTER_ADMIN_KEY');
    }
    // The default secret is the empty file in the repository: no admin key, as before the key is set.
    const defaultFile = /:-([^}]+)\}$/.exec(compose.secrets!.admin_key!.file!)?.[1];
    expect(readFileSync(`${repository}${defaultFile}`, 'utf8')).toBe('');
  });
});
