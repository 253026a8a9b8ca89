import { describe, expect, it } from 'vitest';
import { embeddingVector, encodeFloat32Base64 } from './embedding-vector.js';

describe('embeddingVector', () => {
  it('returns a unit vector of the asked dimensions, the same for the same seed', () => {
    const vector = embeddingVector(11, 32);
    const length = Math.sqrt(vector.reduce((sum, component) => sum + component * component, 0));

    expect(vector).toHaveLength(32);
    expect(length).toBeCloseTo(1, 5);
    expect(embeddingVector(11, 32)).toEqual(vector);
    expect(embeddingVector(12, 32)).not.toEqual(vector);
  });
});

describe('encodeFloat32Base64', () => {
  it('encodes little-endian float32 bytes', () => {
    const vector = new Float32Array([1, -0.5]);
    const bytes = Buffer.from(encodeFloat32Base64(vector), 'base64');

    expect(bytes).toHaveLength(8);
    expect(bytes.readFloatLE(0)).toBe(1);
    expect(bytes.readFloatLE(4)).toBe(-0.5);
  });
});
