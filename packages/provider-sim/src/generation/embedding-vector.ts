import { createSeededRandom } from './seeded-random.js';

/** A deterministic unit vector: components drawn from the seed, then normalized so cosine similarity is a dot product. */
export function embeddingVector(seed: number, dimensions: number): Float32Array {
  const random = createSeededRandom(seed);
  const vector = new Float32Array(dimensions);
  let squaredLength = 0;
  for (let index = 0; index < dimensions; index += 1) {
    const component = random() * 2 - 1;
    vector[index] = component;
    squaredLength += component * component;
  }
  const length = Math.sqrt(squaredLength) || 1;
  for (let index = 0; index < dimensions; index += 1) {
    vector[index] = (vector[index] ?? 0) / length;
  }
  return vector;
}

/** OpenAI's `encoding_format: "base64"`: the little-endian float32 bytes, base64-encoded, whatever this host's order. */
export function encodeFloat32Base64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((component, index) => bytes.writeFloatLE(component, index * 4));
  return bytes.toString('base64');
}
