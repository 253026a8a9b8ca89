import { describe, expect, it } from 'vitest';
import { createSeededRandom } from './seeded-random.js';
import { generateValueFromSchema } from './schema-value.js';

describe('generateValueFromSchema', () => {
  it('fills every declared property by type', () => {
    const value = generateValueFromSchema(
      {
        type: 'object',
        properties: {
          city: { type: 'string' },
          days: { type: 'integer' },
          ratio: { type: 'number' },
          metric: { type: 'boolean' },
          tags: { type: 'array', items: { type: 'string' } },
          location: { type: 'object', properties: { lat: { type: 'number' } } },
          nothing: { type: 'null' },
        },
      },
      createSeededRandom(1),
    );

    expect(value).toEqual({
      city: expect.any(String),
      days: expect.any(Number),
      ratio: expect.any(Number),
      metric: true,
      tags: [expect.any(String)],
      location: { lat: expect.any(Number) },
      nothing: null,
    });
  });

  it('prefers const, then the first enum value, then the first anyOf branch', () => {
    const random = createSeededRandom(1);

    expect(generateValueFromSchema({ type: 'string', const: 'fixed' }, random)).toBe('fixed');
    expect(generateValueFromSchema({ type: 'string', enum: ['celsius', 'fahrenheit'] }, random)).toBe('celsius');
    expect(generateValueFromSchema({ anyOf: [{ type: 'boolean' }, { type: 'string' }] }, random)).toBe(true);
  });

  it('takes the first non-null type of a type list', () => {
    expect(generateValueFromSchema({ type: ['null', 'integer'] }, createSeededRandom(1))).toEqual(expect.any(Number));
  });

  it('stops descending into a deeply nested schema', () => {
    const nested = { type: 'object', properties: { child: {} as Record<string, unknown> } };
    let cursor = nested.properties;
    for (let depth = 0; depth < 10; depth += 1) {
      const next = { type: 'object', properties: { child: {} as Record<string, unknown> } };
      cursor.child = next;
      cursor = next.properties;
    }

    expect(JSON.stringify(generateValueFromSchema(nested, createSeededRandom(1)))).toBe(
      '{"child":{"child":{"child":{"child":{}}}}}',
    );
  });

  it('is reproducible for the same random seed', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } };

    expect(generateValueFromSchema(schema, createSeededRandom(9))).toEqual(generateValueFromSchema(schema, createSeededRandom(9)));
  });
});
