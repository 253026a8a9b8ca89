import { describe, expect, it } from 'vitest';
import { initialHealth } from './deployment-health.js';
import {
  buildWeightsDocument,
  isNewerWeightsDocument,
  isWeightsDocumentStale,
  parseWeightsDocument,
  serializeWeightsDocument,
  weightsOf,
  WEIGHTS_SCHEMA_VERSION,
  type WeightsDocument,
} from './weights-document.js';

const document: WeightsDocument = buildWeightsDocument({
  generation: 7,
  publishedAt: 1_700_000_000_000,
  weights: new Map([['openai/gpt-4o-mini', 3], ['groq/gpt-4o-mini', 0.25]]),
  health: new Map([
    ['openai/gpt-4o-mini', initialHealth(3, 0)],
    ['groq/gpt-4o-mini', { ...initialHealth(1, 0), state: 'recovering' as const, score: 1, weight: 0.25, recoveryStep: 1 }],
  ]),
});

function withField(field: string, value: unknown): string {
  return JSON.stringify({ ...JSON.parse(serializeWeightsDocument(document)), [field]: value });
}

describe('the published weights document', () => {
  it('carries schema version 1, and only state and score of each health record', () => {
    expect(document.schemaVersion).toBe(WEIGHTS_SCHEMA_VERSION);
    expect(WEIGHTS_SCHEMA_VERSION).toBe(1);
    expect(document.health).toEqual({
      'openai/gpt-4o-mini': { state: 'healthy', score: 1 },
      'groq/gpt-4o-mini': { state: 'recovering', score: 1 },
    });
  });

  it('reads back what was written', () => {
    expect(parseWeightsDocument(serializeWeightsDocument(document))).toEqual(document);
  });

  it('reads back a document without health', () => {
    const bare = buildWeightsDocument({ generation: 0, publishedAt: 5, weights: new Map([['a', 1]]) });
    expect(bare).not.toHaveProperty('health');
    expect(parseWeightsDocument(serializeWeightsDocument(bare))).toEqual(bare);
  });

  it('treats a deployment id such as __proto__ as an ordinary key', () => {
    const odd = buildWeightsDocument({ generation: 1, publishedAt: 5, weights: new Map([['__proto__', 2]]) });
    const read = parseWeightsDocument(serializeWeightsDocument(odd));
    expect(read && weightsOf(read)).toEqual(new Map([['__proto__', 2]]));
  });

  it('gives the weights as the routing snapshot holds them', () => {
    expect(weightsOf(document)).toEqual(new Map([['openai/gpt-4o-mini', 3], ['groq/gpt-4o-mini', 0.25]]));
  });

  it('drops fields this version does not define', () => {
    expect(parseWeightsDocument(withField('comment', 'hello'))).toEqual(document);
  });
});

describe('a reader given a document it cannot use', () => {
  it('gets undefined for malformed JSON, so it keeps its last good copy', () => {
    expect(parseWeightsDocument('')).toBeUndefined();
    expect(parseWeightsDocument('{"schemaVersion":1,')).toBeUndefined();
    expect(parseWeightsDocument('null')).toBeUndefined();
    expect(parseWeightsDocument('[1]')).toBeUndefined();
  });

  it('gets undefined for a schema version it does not know, older or newer', () => {
    expect(parseWeightsDocument(withField('schemaVersion', 2))).toBeUndefined();
    expect(parseWeightsDocument(withField('schemaVersion', 0))).toBeUndefined();
    expect(parseWeightsDocument(withField('schemaVersion', '1'))).toBeUndefined();
    expect(parseWeightsDocument(withField('schemaVersion', undefined))).toBeUndefined();
  });

  it('gets undefined for a field of the wrong shape', () => {
    expect(parseWeightsDocument(withField('generation', -1))).toBeUndefined();
    expect(parseWeightsDocument(withField('generation', 1.5))).toBeUndefined();
    expect(parseWeightsDocument(withField('publishedAt', 'now'))).toBeUndefined();
    expect(parseWeightsDocument(withField('weights', [1, 2]))).toBeUndefined();
    expect(parseWeightsDocument(withField('weights', { a: -1 }))).toBeUndefined();
    expect(parseWeightsDocument(withField('weights', { a: '3' }))).toBeUndefined();
    expect(parseWeightsDocument(withField('weights', { a: null }))).toBeUndefined();
    expect(parseWeightsDocument(withField('health', { a: { state: 'asleep', score: 1 } }))).toBeUndefined();
    expect(parseWeightsDocument(withField('health', { a: { state: 'down', score: 2 } }))).toBeUndefined();
    expect(parseWeightsDocument(withField('health', 'fine'))).toBeUndefined();
  });

  it('replaces its copy only with a later generation or a later publication', () => {
    const later = { ...document, generation: 8, publishedAt: document.publishedAt + 15_000 };
    const afterProberRestart = { ...document, generation: 0, publishedAt: document.publishedAt + 30_000 };
    expect(isNewerWeightsDocument(later, document)).toBe(true);
    expect(isNewerWeightsDocument(afterProberRestart, later)).toBe(true);
    expect(isNewerWeightsDocument(document, later)).toBe(false);
    expect(isNewerWeightsDocument(document, document)).toBe(false);
    expect(isNewerWeightsDocument(document, undefined)).toBe(true);
  });

  it('knows when the document is too old to trust', () => {
    expect(isWeightsDocumentStale(document, document.publishedAt + 60_000, 60_000)).toBe(false);
    expect(isWeightsDocumentStale(document, document.publishedAt + 60_001, 60_000)).toBe(true);
  });
});
