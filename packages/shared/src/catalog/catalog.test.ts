import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { ModelCatalog } from './catalog.js';

const config = parseConfig(
  `
backends:
  - name: a
    baseUrl: http://127.0.0.1:1/v1
    models:
      - { name: chat, upstreamModel: vendor/chat-v2, weight: 3, capabilities: [streaming, tools] }
      - { name: embed }
  - name: b
    baseUrl: http://127.0.0.1:2/v1
    models:
      - { name: chat, weight: 1 }
aliases:
  chat-latest: chat
`,
  'catalog.yaml',
  {},
);

describe('ModelCatalog', () => {
  const catalog = new ModelCatalog(config);

  it('groups the deployments of one model name across backends', () => {
    const group = catalog.resolve('chat');
    expect(group?.deployments.map((deployment) => deployment.id)).toEqual(['a/chat', 'b/chat']);
    expect(group?.deployments[0]).toMatchObject({ backend: 'a', upstreamModel: 'vendor/chat-v2', weight: 3 });
    expect(group?.deployments[1]?.upstreamModel).toBe('chat');
    expect(group?.deployments[0]?.capabilities.has('tools')).toBe(true);
  });

  it('resolves aliases to their model', () => {
    expect(catalog.resolve('chat-latest')?.name).toBe('chat');
  });

  it('does not resolve unknown names', () => {
    expect(catalog.resolve('nope')).toBeUndefined();
  });

  it('finds deployments by id', () => {
    expect(catalog.deployment('a/embed')?.model).toBe('embed');
  });
});
